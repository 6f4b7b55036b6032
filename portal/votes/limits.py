"""The ballot's rate limits, counted for the page and the API together (as a support's are):
per person, and more loosely per address, where many households may share one."""

from __future__ import annotations

from portal.core.limits import configured, user_key
from portal.extensions import limiter


def ballot_limits(view):
    view = limiter.shared_limit(configured("BALLOT_IP_LIMIT"), scope="ballot-ip")(view)
    return limiter.shared_limit(configured("BALLOT_LIMIT"), scope="ballot", key_func=user_key)(view)
