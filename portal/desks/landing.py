"""Where a person lands after signing in: where their work is.

Staff land on their first desk (committee, then agency, grid checks, district, administration);
a confirmed resident on their community's page; anyone else on the residency page, to join one.
A safe same-site ``next`` always wins (the sign-in view applies it before asking here)."""

from __future__ import annotations

from flask import url_for

from portal.desks.queries import first_desk_url


def landing_url(user) -> str:
    desk = first_desk_url(user)
    if desk:
        return desk
    if user.community_id:
        return url_for("places.community", code=user.community.code)
    return url_for("residency.status")
