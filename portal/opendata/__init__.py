"""Open data: CSV and JSON exports of public proposals and cases with every lifecycle
timestamp, the ``flask opendata export`` files, and Atom feeds of what is new."""

from flask import Blueprint

bp = Blueprint("opendata", __name__)

from portal.opendata import views  # noqa: E402,F401  (routes register on import)
