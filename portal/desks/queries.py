"""The desks of a person and the counts of what waits on each, in one statement.

A desk is a page of work reachable from the header: a community's committee desk, an agency's
workspace, the grid worker's checks, a district's supervision desk, the administration. Each
count is the number of items on the first tab of that desk, built from the same statements the
desk's own page lists (the features' queue functions), so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import g, has_request_context, url_for
from sqlalchemy import Integer, Select, bindparam, func, select

from portal.cases import services as cases
from portal.cases.models import Case
from portal.core import clock
from portal.core.i18n import current_locale
from portal.core.i18n import lazy_gettext as _l
from portal.core.types import UTCDateTime
from portal.deliberation.models import Appeal, ModerationAction, Report
from portal.extensions import db
from portal.meetings import services as meetings
from portal.meetings.models import Invitation, Meeting
from portal.proposals import services as proposals
from portal.proposals.models import Proposal
from portal.residency.models import ResidencyRequest, ResidencyStatus
from portal.roles import permissions
from portal.roles.models import Role
from portal.votes import services as votes

# The order in which a person with several roles lands: the first kind they hold.
KINDS = ("committee", "liaison", "grid", "supervisor", "admin")

KIND_LABELS = {
    "committee": _l("Community desk"),
    "liaison": _l("Agency desk"),
    "grid": _l("Checks to do"),
    "supervisor": _l("District desk"),
    "admin": _l("Administration"),
}


@dataclass
class Desk:
    kind: str
    url: str
    scope_name: str  # the community, agency or district; "" for the grid worker and admin
    count: int = 0
    # For the committee desk: review, moderation, residency, appeals (label → count).
    parts: dict[str, int] = field(default_factory=dict)
    scope_id: int | None = None  # the community, agency or district's id

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])


def _count(stmt, key=None):
    """A scalar subquery counting the rows of ``stmt`` (its ORDER BY dropped). ``key``, the
    id column of a statement reading whole rows (without DISTINCT), is all the subquery
    selects: with every column of the row, the committee's statement ran to 8 KB, past what
    psycopg keeps converted (4 KB), and was parsed again on every page."""
    if key is not None:
        stmt = stmt.with_only_columns(key)
    return select(func.count()).select_from(stmt.order_by(None).subquery()).scalar_subquery()


def review_waiting(community):
    return _count(proposals.review_queue(community), Proposal.id)


def moderation_waiting(community_id: int):
    """Open reports grouped by what they report: one item each, as the moderation queue lists."""
    targets = (
        select(Report.target_type, Report.target_id)
        .where(Report.community_id == community_id, Report.resolved_at.is_(None))
        .distinct()
    )
    return _count(targets)


def residency_waiting(community_id: int):
    return _count(
        select(ResidencyRequest.id).where(
            ResidencyRequest.community_id == community_id,
            ResidencyRequest.status == ResidencyStatus.pending,
        )
    )


def appeals_waiting(community_id: Any, user_id: Any):
    """Pending appeals the committee decides, against an action in this community, that this
    member may decide (neither their own action nor their own appeal)."""
    return _count(
        select(Appeal.id)
        .join(ModerationAction, ModerationAction.id == Appeal.action_id)
        .where(
            Appeal.status == "pending",
            Appeal.decider_role == "committee",
            ModerationAction.community_id == community_id,
            Appeal.appellant_id != user_id,
            # An automatic action has no actor; NULL != id is unknown in SQL, not true.
            (ModerationAction.actor_id.is_(None)) | (ModerationAction.actor_id != user_id),
        )
    )


def open_invitations(agency, user=None) -> int:
    """An agency's invitations to answer in writing, as its invitations page lists them: the
    count of ``user``'s desk of that agency when they hold it (counted this request, by the
    same statement), else counted here."""
    for desk in desks_for(user):
        if desk.kind == "liaison" and desk.scope_id == agency.id:
            return desk.parts["invitations"]
    stmt = meetings.open_invitations(agency).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(stmt)) or 0


COMMITTEE_PARTS = ("review", "moderation", "residency", "appeals", "meetings", "votes")
# The names of each kind's count columns, in the order its columns come (committee: above).
PARTS = {
    "committee": COMMITTEE_PARTS,
    "liaison": ("cases", "invitations"),
    "supervisor": ("returned", "extensions"),
}
SPANS = {"committee": len(COMMITTEE_PARTS), "liaison": 2, "supervisor": 2, "admin": 1}


@dataclass(frozen=True)
class _Bound:
    """A community, agency or district as the features' queue functions read it (its ``id``
    only), with the id a bound parameter: the desks' statement is built once for each shape
    of desks, and each request binds its own ids."""

    id: Any


_NOW = bindparam("now", type_=UTCDateTime())
_USER_ID = bindparam("user_id", type_=Integer)


def _scope(slot: int) -> Any:
    """Typed ``Any``: the queue functions take the model they read the ``id`` of."""
    return _Bound(bindparam(f"scope_{slot}", type_=Integer))


def _committee_columns(slot: int) -> list:
    c = _scope(slot)
    return [
        review_waiting(c),
        moderation_waiting(c.id),
        residency_waiting(c.id),
        appeals_waiting(c.id, _USER_ID),
        _count(meetings.to_prepare(c, _NOW), Meeting.id),
        _count(votes.open_votes(c, _NOW)),
    ]


def _liaison_columns(slot: int) -> list:
    """New cases and invitations to answer in writing: the agency desk's count."""
    a = _scope(slot)
    return [
        _count(cases.liaison_cases(a, "new"), Case.id),
        _count(meetings.open_invitations(a), Invitation.id),
    ]


def _supervisor_columns(slot: int) -> list:
    """Returned cases to re-route and extension requests to decide: the district desk's
    count (overdue cases are watched on its tab, not waiting for the supervisor's step)."""
    d = _scope(slot)
    return [
        _count(cases.supervisor_cases(d, "returned"), Case.id),
        _count(cases.supervisor_cases(d, "extensions"), Case.id),
    ]


def filing_waiting():
    return _count(select(Proposal.id).where(Proposal.filing_pending_since.is_not(None)))


_COLUMNS: dict[str, Callable[[int], list]] = {
    "committee": _committee_columns,
    "liaison": _liaison_columns,
    "supervisor": _supervisor_columns,
    "admin": lambda _slot: [filing_waiting()],
}


@lru_cache(maxsize=64)
def _statement(shape: tuple[str, ...]):
    """The one statement counting every desk of a person whose desks are of these kinds, in
    this order; built once for each shape (building it cost more than running it), with the
    scopes, the person and the time bound at execution."""
    return select(*[col for slot, kind in enumerate(shape) for col in _COLUMNS[kind](slot)])


def _plan(user) -> list[tuple[Desk, int | None]]:
    """The person's desks in landing order, each with the id of its scope (None for the grid
    worker and the administration); no query (beyond the grants, loaded once a request)."""
    loc = current_locale()
    grants = sorted(permissions.grants(user), key=lambda gr: (KINDS.index(_kind(gr)), gr.id))
    plan: list[tuple[Desk, int | None]] = []
    seen_grid = False
    for gr in grants:
        kind = _kind(gr)
        if kind == "committee":
            url = url_for("desks.committee", code=gr.scope_code)
            plan.append((Desk("committee", url, gr.scope_name(loc)), gr.community_id))
        elif kind == "liaison":
            url = url_for("cases.liaison", code=gr.scope_code)
            plan.append((Desk("liaison", url, gr.scope_name(loc)), gr.agency_id))
        elif kind == "grid":
            if seen_grid:  # one desk for all of a grid worker's grids
                continue
            seen_grid = True
            plan.append((Desk("grid", url_for("cases.grid_worker"), ""), None))
        elif kind == "supervisor":
            url = url_for("cases.supervisor", code=gr.scope_code)
            plan.append((Desk("supervisor", url, gr.scope_name(loc)), gr.district_id))
        else:
            plan.append((Desk("admin", url_for("admin.index"), ""), None))
    return plan


def first_desk_url(user) -> str | None:
    """Where the person's work starts, without counting anything."""
    plan = _plan(user) if permissions.grants(user) else []
    return plan[0][0].url if plan else None


def _build(user) -> list[Desk]:
    plan = _plan(user)
    desks = [desk for desk, _scope_id in plan]
    for desk, scope_id in plan:
        desk.scope_id = scope_id
    if not desks:
        return desks
    # The grid worker's desk counts over the grids of all their grants (a set of ids, and a
    # lookup of the grids' communities): its column is built for the request, the others once.
    shape = tuple(d.kind for d in desks if d.kind != "grid")
    params: dict[str, Any] = {"now": clock.now(), "user_id": user.id}
    params.update(
        (f"scope_{slot}", scope_id)
        for slot, scope_id in enumerate(s for d, s in plan if d.kind != "grid")
    )
    if len(shape) == len(desks):
        stmt: Select[Any] = _statement(shape)
    else:
        grid_grants = [gr for gr in permissions.grants(user) if gr.role == Role.grid_worker]
        grid = _count(cases.verification_cases(grid_grants), Case.id)
        stmt = _statement(shape).add_columns(grid) if shape else select(grid)
    row = db.session.execute(stmt, params).one()
    at = 0
    for desk in desks:
        if desk.kind == "grid":
            continue
        span = SPANS[desk.kind]
        values = [int(v or 0) for v in row[at : at + span]]
        at += span
        desk.count = sum(values)
        if desk.kind in PARTS:
            desk.parts = dict(zip(PARTS[desk.kind], values, strict=True))
    for desk in desks:
        if desk.kind == "grid":  # its column comes last
            desk.count = int(row[at] or 0)
    return desks


def _kind(gr: permissions.Grant) -> str:
    return {
        Role.committee: "committee",
        Role.liaison: "liaison",
        Role.grid_worker: "grid",
        Role.supervisor: "supervisor",
        Role.admin: "admin",
    }[gr.role]


def desks_for(user) -> list[Desk]:
    """The person's desks in landing order, with counts: one statement (plus the grid lookup of
    a grid worker's grid grants), once a request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if not permissions.grants(user):
        return []
    if not has_request_context():
        return _build(user)
    cache = g.setdefault("_desks", {})
    if user.id not in cache:
        cache[user.id] = _build(user)
    return cache[user.id]


def committee_desk(user, community) -> Desk | None:
    for desk in desks_for(user):
        if desk.kind == "committee" and desk.url == url_for("desks.committee", code=community.code):
            return desk
    return None


def same_kind_twice(desks: list[Desk]) -> set[str]:
    """Kinds held for more than one scope: their header links name the scope too."""
    seen: set[str] = set()
    twice: set[str] = set()
    for d in desks:
        (twice if d.kind in seen else seen).add(d.kind)
    return twice
