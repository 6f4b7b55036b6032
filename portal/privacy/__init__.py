"""Data rights: download my data, delete my account, who has seen my data, and retention.

A composition package: it reads and erases across every feature (their tables), and features
never import it."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from portal.privacy import views  # noqa: E402,F401
