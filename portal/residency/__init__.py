from flask import Blueprint

bp = Blueprint("residency", __name__)

from portal.residency import views  # noqa: E402,F401
