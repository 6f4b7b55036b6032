"""Meetings (议事会): agendas, agencies' written answers, registrations, questions, minutes."""

from flask import Blueprint

bp = Blueprint("meetings", __name__)

from portal.meetings import views  # noqa: E402,F401
