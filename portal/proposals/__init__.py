from flask import Blueprint

bp = Blueprint("proposals", __name__)

from portal.proposals import views  # noqa: E402,F401
