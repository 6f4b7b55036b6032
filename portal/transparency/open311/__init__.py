"""Open311 GeoReport v2 at /open311/v2: categories as services, grid cases as service requests,
and ``POST requests`` for integrations (a 12345 hotline) holding an admin-issued API key.

An API authenticated by its ``api_key`` alone (no cookie is ever read for a write), so it needs
no CSRF token, like /api/v1."""

from __future__ import annotations

from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

from portal.transparency.open311 import views  # noqa: E402,F401
