"""JSON API under /api/v1. Authentication: bearer tokens; cookies only for safe methods.

A state-changing API request without a bearer token is treated as anonymous, so the cookie can
never be abused cross-site (which is why the API needs no CSRF token).
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from flask import Blueprint, Response, g, jsonify, request
from flask_login import current_user

from portal.accounts.auth import bearer_token, forget_token, hash_token, user_from_bearer
from portal.core.errors import DomainError, error_response
from portal.core.guards import public
from portal.extensions import csrf, login_manager

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
OPENAPI_PATH = Path(__file__).with_name("openapi.json")


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


@bp.after_request
def _commit(response: Response) -> Response:
    """The one commit of an API request: what its view changed is kept when it answered with
    success; an error answer keeps nothing (a DomainError rolled back already, in its handler).
    Only a session that holds a transaction commits: a support that ran on a connection of its
    own (``core.database.run_alone``) left none, and costs no round trip here."""
    from portal.extensions import db

    session = db.session()
    if session.in_transaction():
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    return response


# Views that authenticate a bearer token inside their own statement, so that the whole request
# is one round trip (``signed_in_by_statement``). The per-person rate limit keys the token by
# its user before that (``core.limits.user_key``), which the process remembers per token.
TOKEN_IN_STATEMENT = {"api.support"}


@bp.before_request
def _authenticate():
    g.pop("bearer_token_hash", None)  # never one of an earlier request's (a g kept by tests)
    header = request.headers.get("Authorization")
    if header is not None:
        if request.method == "POST" and request.endpoint in TOKEN_IN_STATEMENT:
            raw = bearer_token()
            if raw:
                g.bearer_token_hash = hash_token(raw)
                # Never the session cookie for a write (see the module's docstring).
                g._login_user = login_manager.anonymous_user()
                return None
        if not authenticate_bearer():
            return _invalid_token()
    elif request.method not in SAFE_METHODS:
        g._login_user = login_manager.anonymous_user()
    return None


def authenticate_bearer() -> bool:
    """Sign the request in as the user of its bearer token; False when the token is invalid."""
    user, token_id = user_from_bearer()
    if user is None:
        return False
    g._login_user = user
    g.api_token_id = token_id
    return True


def _invalid_token():
    from portal.core.security import log_event

    log_event("api_token_rejected")
    return error_response(401, "invalid_token", "The bearer token is invalid or expired.")


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


def authenticate_deferred():
    """After a statement that checked the token found nothing to do: sign in as usual. None,
    or the 401 response for an invalid token."""
    token_hash = g.pop("bearer_token_hash", None)
    if token_hash is None:
        return None
    if authenticate_bearer():
        return None
    forget_token(token_hash)  # revoked since the rate limit learnt whose it was
    return _invalid_token()


def signed_in_by_token() -> None:
    """The statement authenticated the token and did the work: the response is a signed-in one
    (``security`` marks it not to be stored)."""
    g.pop("bearer_token_hash", None)
    g.signed_in_response = True


@bp.get("/openapi.json")
@public
def openapi():
    """The document with its request side built from the views' models (``api.openapi``)."""
    from flask import current_app

    from portal.api.openapi import build

    doc = current_app.extensions.get("openapi_document")
    if doc is None:
        doc = current_app.extensions["openapi_document"] = build(current_app)
    return jsonify(doc)


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


from portal.api import endpoints  # noqa: E402,F401
from portal.cases import api as _cases_api  # noqa: E402,F401
from portal.deliberation import api as _deliberation_api  # noqa: E402,F401
from portal.proposals import api as _proposals_api  # noqa: E402,F401
