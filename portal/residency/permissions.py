"""Who decides a residency request: a committee member of the community other than the person
asking; where the community has no such member, a supervisor of its district. Nobody decides
their own request (as nobody decides an appeal against their own moderation)."""

from __future__ import annotations

from sqlalchemy import exists, select

from portal.extensions import db
from portal.residency.models import ResidencyRequest
from portal.roles import permissions
from portal.roles.models import Role, RoleGrant


def other_committee_member(community_id, user_id):
    """SQL: the community has a committee member other than ``user_id``. Takes columns (for a
    list of requests) or values (for one request), so the rule is written once."""
    return exists().where(
        RoleGrant.role == Role.committee,
        RoleGrant.community_id == community_id,
        RoleGrant.user_id != user_id,
    )


def left_to_supervisor():
    """SQL criterion on ResidencyRequest: no committee member but the asker can decide it."""
    return ~other_committee_member(ResidencyRequest.community_id, ResidencyRequest.user_id)


def supervisor_decides(req: ResidencyRequest) -> bool:
    return not db.session.scalar(select(other_committee_member(req.community_id, req.user_id)))


def is_requests_supervisor(user, community) -> bool:
    """A supervisor of the community's district (who sees only the requests left to them)."""
    return permissions.is_supervisor(user, community.street.district)


def can_see_requests(user, community) -> bool:
    """The queue of a community: its committee, and the supervisors of its district."""
    return permissions.is_committee(user, community) or is_requests_supervisor(user, community)


def can_decide_request(user, req: ResidencyRequest) -> bool:
    if not getattr(user, "is_authenticated", False) or user.id == req.user_id:
        return False
    if permissions.is_committee(user, req.community):
        return True
    return is_requests_supervisor(user, req.community) and supervisor_decides(req)
