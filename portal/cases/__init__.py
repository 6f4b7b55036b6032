from flask import Blueprint

bp = Blueprint("cases", __name__)

from portal.cases import views  # noqa: E402,F401
