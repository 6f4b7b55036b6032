"""Permission predicates for views, the API and templates; grants load once a request."""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from flask import g, has_request_context
from sqlalchemy import bindparam, func, select

from portal.core.i18n import localized
from portal.extensions import db
from portal.places.models import Community, District, Grid
from portal.roles.models import Agency, Role, RoleGrant


class Grant(NamedTuple):
    """A role a person holds, as every page's permission checks and desks read it: the grant's
    own columns and its scope's code and names, read as one row (not four joined objects)."""

    id: int
    role: Role
    community_id: int | None
    grid_id: int | None
    agency_id: int | None
    district_id: int | None
    scope_code: str | None
    scope_name_zh: str | None
    scope_name_en: str | None
    grid_community_id: int | None  # the community of a grid grant's grid

    def scope_name(self, locale: str) -> str:
        return localized(self.scope_name_zh or "", self.scope_name_en, locale)


@cache
def _grants_statement():
    """Built once, the user bound at execution: building it cost as much as running it."""
    scopes: tuple[Any, ...] = (Community, Grid, Agency, District)
    columns = [
        RoleGrant.id,
        RoleGrant.role,
        RoleGrant.community_id,
        RoleGrant.grid_id,
        RoleGrant.agency_id,
        RoleGrant.district_id,
        # A grant has one scope at most (the table's CHECK), or none (an administrator).
        func.coalesce(*(m.code for m in scopes)),
        func.coalesce(*(m.name_zh for m in scopes)),
        func.coalesce(*(m.name_en for m in scopes)),
        Grid.community_id,
    ]
    stmt = select(*columns).select_from(RoleGrant)
    for model, column in zip(
        scopes,
        (RoleGrant.community_id, RoleGrant.grid_id, RoleGrant.agency_id, RoleGrant.district_id),
        strict=True,
    ):
        stmt = stmt.outerjoin(model, model.id == column)
    return stmt.where(RoleGrant.user_id == bindparam("user_id")).order_by(RoleGrant.id)


def grants(user) -> list[Grant]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    found = g.setdefault("_grants", {}) if has_request_context() else {}
    if user.id not in found:
        rows = db.session.execute(_grants_statement(), {"user_id": user.id})
        found[user.id] = [Grant(*row) for row in rows]
    return found[user.id]


def known_to_hold_none(user_id: int) -> None:
    """The sign-in query found that this user holds no role (most people): ``grants`` answers
    from that for the rest of the request instead of asking again."""
    if has_request_context():
        g.setdefault("_grants", {}).setdefault(user_id, [])


def forget_grants() -> None:
    if has_request_context():
        g.pop("_grants", None)


def is_admin(user) -> bool:
    return any(gr.role == Role.admin for gr in grants(user))


def is_staff(user) -> bool:
    return bool(grants(user))


def committee_community_ids(user) -> set[int]:
    # A committee grant always names its community (the table's CHECK).
    return {
        gr.community_id
        for gr in grants(user)
        if gr.role == Role.committee and gr.community_id is not None
    }


def is_committee(user, community) -> bool:
    return community is not None and community.id in committee_community_ids(user)


def is_grid_worker(user, *, grid=None, community=None) -> bool:
    for gr in grants(user):
        if gr.role != Role.grid_worker:
            continue
        if grid is not None and (gr.grid_id == grid.id or gr.community_id == grid.community_id):
            return True
        if community is not None and community.id in (gr.community_id, gr.grid_community_id):
            return True
    return False


def is_liaison(user, agency) -> bool:
    return agency is not None and any(
        gr.role == Role.liaison and gr.agency_id == agency.id for gr in grants(user)
    )


def is_supervisor(user, district) -> bool:
    return district is not None and any(
        gr.role == Role.supervisor and gr.district_id == district.id for gr in grants(user)
    )


def can_manage_invitations(user, community) -> bool:
    return is_committee(user, community)
