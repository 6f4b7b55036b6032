"""Public pages of the grid: districts → communities → grids."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, abort, current_app, render_template
from sqlalchemy import func

from portal.core.guards import public
from portal.extensions import db
from portal.places import bp
from portal.places.models import Community, District, Grid, Street
from portal.places.services import community_by_code


def add_community_section(app: Flask, section: Callable[[Community], dict]) -> None:
    """What the community page shows of the features above places (reviews waiting, the
    deliberation figures): a function of the community giving template variables, added by the
    app factory (places imports no feature)."""
    app.extensions.setdefault("community_sections", []).append(section)


@bp.get("/places")
@public
def districts():
    rows = db.session.execute(
        db.select(District, func.count(Community.id))
        .outerjoin(Street, Street.district_id == District.id)
        .outerjoin(Community, Community.street_id == Street.id)
        .group_by(District.id)
        .order_by(District.code)
    ).all()
    return render_template("places/districts.html", rows=rows)


@bp.get("/places/<code>")
@public
def district(code: str):
    district = db.session.scalar(db.select(District).where(District.code == code))
    if district is None:
        abort(404)
    page = db.paginate(
        db.select(Community)
        .join(Street)
        .where(Street.district_id == district.id)
        .order_by(Community.code),
        per_page=50,
        error_out=False,
    )
    return render_template("places/district.html", district=district, page=page)


@bp.get("/communities/<code>")
@public
def community(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    grids = db.session.scalars(
        db.select(Grid).where(Grid.community_id == community.id).order_by(Grid.code)
    ).all()
    sections: dict = {}
    for section in current_app.extensions.get("community_sections", ()):
        sections.update(section(community))
    return render_template("places/community.html", community=community, grids=grids, **sections)
