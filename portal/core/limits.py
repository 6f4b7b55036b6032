"""Rate-limit helpers shared by pages and the API: limits read from config at request time,
and a per-person key."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user


def configured(name: str):
    """A limit string looked up in the config on every request (tests and deployments tune it)."""
    return lambda: current_app.config[name]


# The id of the user whose token has this hash, or None: the accounts' lookup
# (``accounts.auth.token_user_id``), handed in by the app factory (core imports no higher layer).
_token_user_id: Callable[[str], int | None] | None = None


def set_token_lookup(lookup: Callable[[str], int | None]) -> None:
    global _token_user_id
    _token_user_id = lookup


def user_key() -> str:
    """Per person when signed in, per address otherwise. A bearer token that its view checks
    in its own statement (``portal.api.TOKEN_IN_STATEMENT``) counts for its user already."""
    token_hash = g.get("bearer_token_hash")
    if token_hash is not None:
        user_id = _token_user_id(token_hash) if _token_user_id else None
        return f"user:{user_id}" if user_id is not None else get_remote_address()
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


_SIGN_IN_FAILED = "commons.sign_in_failed"


def sign_in_failed() -> None:
    """Count this request's failed sign-in against its address (``sign_in_limit``)."""
    request.environ[_SIGN_IN_FAILED] = True


def _failed(_response) -> bool:
    return bool(request.environ.get(_SIGN_IN_FAILED))


def sign_in_limit():
    """One per-address budget of failed sign-ins for every way of signing in (the web form, the
    API's token): checked before the attempt, spent only by a failure, so a household behind
    one address is never turned away for signing in."""
    from portal.extensions import limiter

    return limiter.shared_limit(
        configured("LOGIN_LIMIT"), scope="sign-in", methods=["POST"], deduct_when=_failed
    )
