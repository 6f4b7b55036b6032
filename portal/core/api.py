"""What every API view shares: the blueprint (/api/v1), the one error type, the signed-in user,
the one timestamp format. Here, under the features, so that each feature's ``api`` module
registers its routes without importing the composition layer (``portal.api``), which adds the
blueprint's hooks (authentication, the one commit) and the operations of no single feature.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, request
from flask_login import current_user

from portal.core.errors import DomainError, error_response
from portal.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class ApiError(DomainError):
    """An error only the API raises (a malformed request, an unknown code): the feature errors
    need no translation into it, the one handler (``core.errors``) answers every DomainError.
    ``fields`` may name several inputs; ``headers`` go out with the response."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code, message, status=status)
        self._fields = fields
        self.headers = headers or {}

    @property
    def fields(self) -> dict[str, str] | None:
        return self._fields


def signed_in_by_statement(view):
    """The guard of a TOKEN_IN_STATEMENT view: signed in, or carrying a bearer token that the
    view checks in its statement. The view must call ``token_in_statement`` first: it returns
    the token's hash while the token is still to be checked, and ``authenticate_deferred``
    signs the request in the usual way when the statement did not do the work."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if "bearer_token_hash" not in g and not current_user.is_authenticated:
            return error_response(401)
        return view(*args, **kwargs)

    # The guard a view declares, read by the test that walks every route; a function takes no
    # attribute the type checker knows of.
    wrapper.__guard__ = "login"  # type: ignore[attr-defined]
    return wrapper


def token_in_statement() -> str | None:
    return g.get("bearer_token_hash")


def signed_in_by_token() -> None:
    """The statement authenticated the token and did the work: the response is a signed-in one
    (``security`` marks it not to be stored)."""
    g.pop("bearer_token_hash", None)
    g.signed_in_response = True


def iso(dt) -> str | None:
    """UTC timestamps as ISO 8601 with a Z, the one format of the API."""
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


def body() -> dict:
    """The JSON object of a request whose view has no body model (see ``validation.accepts``)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    if not isinstance(data, dict):
        raise ApiError("invalid_json", "The request body must be a JSON object.", status=400)
    return data


def require_user():
    if not current_user.is_authenticated:
        raise ApiError("unauthenticated", "Sign in or send a bearer token.", status=401)
    return current_user._get_current_object()
