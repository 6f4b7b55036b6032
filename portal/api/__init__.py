"""JSON API under /api/v1. Authentication: bearer tokens; cookies only for safe methods.

A state-changing API request without a bearer token is treated as anonymous, so the cookie can
never be abused cross-site (which is why the API needs no CSRF token).
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, g, jsonify, request
from flask_login import current_user

from portal.accounts.auth import user_from_bearer
from portal.core.errors import error_response
from portal.core.guards import public
from portal.extensions import csrf, login_manager

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
OPENAPI_PATH = Path(__file__).with_name("openapi.json")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    from portal.extensions import db

    db.session.rollback()
    return error_response(err.status, err.code, err.message, err.fields)


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization")
    if header is not None:
        user, token_id = user_from_bearer()
        if user is None:
            from portal.core.security import log_event

            log_event("api_token_rejected")
            return error_response(401, "invalid_token", "The bearer token is invalid or expired.")
        g._login_user = user
        g.api_token_id = token_id
    elif request.method not in SAFE_METHODS:
        g._login_user = login_manager.anonymous_user()
    return None


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(json.loads(OPENAPI_PATH.read_text(encoding="utf-8")))


def iso(dt) -> str | None:
    """UTC timestamps as ISO 8601 with a Z, the one format of the API."""
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return data


def require_user():
    if not current_user.is_authenticated:
        raise ApiError(401, "unauthenticated", "Sign in or send a bearer token.")
    return current_user._get_current_object()


from portal.api import endpoints  # noqa: E402,F401
from portal.cases import api as _cases_api  # noqa: E402,F401
from portal.deliberation import api as _deliberation_api  # noqa: E402,F401
from portal.proposals import api as _proposals_api  # noqa: E402,F401
