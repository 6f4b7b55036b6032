from flask import Blueprint

bp = Blueprint("places", __name__)

from portal.places import views  # noqa: E402,F401
