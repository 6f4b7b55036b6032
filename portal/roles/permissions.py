"""Permission predicates for views, the API and templates; grants load once a request."""

from __future__ import annotations

from functools import cache

from flask import g, has_request_context
from sqlalchemy import bindparam, select

from portal.extensions import db
from portal.roles.models import Role, RoleGrant


@cache
def _grants_statement():
    """Built once, the user bound at execution: building it cost as much as running it."""
    return select(RoleGrant).where(RoleGrant.user_id == bindparam("user_id"))


def grants(user) -> list[RoleGrant]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    found = g.setdefault("_grants", {}) if has_request_context() else {}
    if user.id not in found:
        found[user.id] = list(db.session.scalars(_grants_statement(), {"user_id": user.id}))
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
        if community is not None and (
            gr.community_id == community.id
            or (gr.grid is not None and gr.grid.community_id == community.id)
        ):
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
