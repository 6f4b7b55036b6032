"""JSON API under /api/v1. Authentication: bearer tokens; cookies only for safe methods.

A state-changing API request without a bearer token is treated as anonymous, so the cookie can
never be abused cross-site (which is why the API needs no CSRF token).
"""

from __future__ import annotations

from pathlib import Path

from flask import g, jsonify, request

from portal.accounts.auth import bearer_token, hash_token
from portal.accounts.bearer import authenticate_bearer, invalid_token
from portal.core.api import SAFE_METHODS, bp
from portal.core.api import ApiError as ApiError
from portal.core.api import body as body
from portal.core.api import iso as iso
from portal.core.api import require_user as require_user
from portal.core.guards import public
from portal.extensions import login_manager

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


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
            return invalid_token()
    elif request.method not in SAFE_METHODS:
        g._login_user = login_manager.anonymous_user()
    return None


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


from portal.api import endpoints  # noqa: E402,F401
from portal.cases import api as _cases_api  # noqa: E402,F401
from portal.deliberation import api as _deliberation_api  # noqa: E402,F401
from portal.meetings import api as _meetings_api  # noqa: E402,F401
from portal.privacy import api as _privacy_api  # noqa: E402,F401
from portal.proposals import api as _proposals_api  # noqa: E402,F401
from portal.votes import api as _votes_api  # noqa: E402,F401
