"""The public accountability dashboard: figures of cases and proposals per city, district,
community and agency, kept in summary tables (``models``) that each change updates."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from portal.transparency.dashboard import views  # noqa: E402, F401
