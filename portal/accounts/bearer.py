"""Signing an API request in by its bearer token (the hooks of ``portal.api`` and the views that
check the token in their own statement, ``core.api.signed_in_by_statement``)."""

from __future__ import annotations

from flask import g

from portal.accounts.auth import forget_token, user_from_bearer
from portal.core.errors import error_response


def authenticate_bearer() -> bool:
    """Sign the request in as the user of its bearer token; False when the token is invalid,
    or is a staff account's token issued without the second factor (``otp``)."""
    user, token_id, lacks_second_factor = user_from_bearer()
    if user is None:
        return False
    if lacks_second_factor:
        g.bearer_lacks_second_factor = True
        return False
    g._login_user = user
    g.api_token_id = token_id
    return True


def invalid_token():
    from portal.core.security import log_event

    log_event("api_token_rejected")
    if g.pop("bearer_lacks_second_factor", False):
        return error_response(
            401,
            "otp_required",
            "Staff accounts need a token issued with the second factor: POST "
            "/api/v1/auth/token again with otp.",
        )
    return error_response(401, "invalid_token", "The bearer token is invalid or expired.")


def authenticate_deferred():
    """After a statement that checked the token found nothing to do: sign in as usual. None,
    or the 401 response for an invalid token."""
    token_hash = g.pop("bearer_token_hash", None)
    if token_hash is None:
        return None
    if authenticate_bearer():
        return None
    forget_token(token_hash)  # revoked since the rate limit learnt whose it was
    return invalid_token()
