from flask import Blueprint

bp = Blueprint("deliberation", __name__)

from portal.deliberation import views  # noqa: E402,F401
