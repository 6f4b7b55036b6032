"""Where each person's work is: their desks with counts of what waits there, where they land
after signing in, and the committee's desk for a community. Composition layer: reads the
features' queues and changes nothing."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("desks", __name__)

from portal.desks import views  # noqa: E402,F401  (routes register on import)
