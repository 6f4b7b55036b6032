"""Reading cases: workspace lists, overdue, timeline, photos, the case of a proposal."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Exists,
    Select,
    and_,
    bindparam,
    exists,
    inspect,
    select,
)
from sqlalchemy.orm import joinedload, lazyload

from portal.cases.models import Case, CaseEvent, CasePhoto
from portal.cases.services._common import C
from portal.cases.services.progress import DEADLINE_KINDS
from portal.core import clock
from portal.extensions import db
from portal.places.models import District
from portal.places.services import district_community_ids
from portal.proposals.models import Proposal
from portal.proposals.models import Status as ProposalStatus
from portal.roles.models import Agency


@cache
def _photos() -> Select:
    # Built once, the case bound: every case's page reads it.
    case_id = bindparam("case_id", type_=CasePhoto.case_id.type)
    return select(CasePhoto).where(CasePhoto.case_id == case_id).order_by(CasePhoto.id)


def has_photos() -> Exists:
    """Whether a case has site photos, for ``Case.has_photos`` (``with_expression``)."""
    return exists().where(CasePhoto.case_id == Case.id)


def photos(case: Case) -> list[CasePhoto]:
    """The case's site photos in order; none asked for when its statement said it has none
    (``has_photos``)."""
    if case.has_photos is False:
        return []
    return list(db.session.scalars(_photos(), {"case_id": case.id}))


# --- workspace lists --------------------------------------------------------------------------


def overdue_clause(now: datetime | BindParameter | None = None) -> ColumnElement[bool]:
    """A case past its current stage's time limit (a returned or closed case has none): the
    one rule behind every overdue list, filter and count. The states are named, not "not
    closed", so the ``(state, stage_due_at)`` index answers it with a range per state. ``now``
    may be a bound parameter, for a statement built once."""
    due = Case.stage_due_at < (clock.now() if now is None else now)
    return and_(Case.state.in_(list(DEADLINE_KINDS)), due)


def in_district(district_id) -> ColumnElement[bool]:
    """A case of one of the district's communities."""
    return Case.community_id.in_(district_community_ids(district_id))


LIAISON_TABS = ("new", "due", "overdue", "returned", "all")
SUPERVISOR_TABS = ("returned", "overdue", "extensions")


def liaison_cases(agency: Agency, tab: str):
    """The cases of an agency's workspace tab, or None for an unknown tab."""
    if tab not in LIAISON_TABS:
        return None
    stmt = select(Case).where(Case.agency_id == agency.id)
    # Only the asked tab's conditions are built: expressions cost more than they look.
    if tab == "new":
        return stmt.where(Case.state == C.dispatched)
    if tab == "due":
        return stmt.where(
            Case.state.in_([C.accepted, C.in_progress]), Case.stage_due_at >= clock.now()
        )
    if tab == "overdue":
        return stmt.where(overdue_clause())
    if tab == "returned":
        return stmt.where(Case.state == C.returned)
    return stmt


def supervisor_cases(district: District, tab: str):
    """The cases of a district supervisor's tab, or None for an unknown tab."""
    if tab not in SUPERVISOR_TABS:
        return None
    stmt = select(Case).where(in_district(district.id))
    return {
        "returned": stmt.where(Case.state == C.returned),
        "overdue": stmt.where(overdue_clause()),
        "extensions": stmt.where(Case.state != C.closed, Case.extension == "requested"),
    }[tab]


def verification_cases(grants: list) -> object:
    """Cases waiting for an on-site check within a grid worker's grants
    (``roles.permissions.Grant``, which carry their grid's community)."""
    community_ids = {g.community_id for g in grants if g.community_id}
    grid_ids = {g.grid_id for g in grants if g.grid_id}
    grid_communities = {g.grid_community_id for g in grants if g.grid_id}
    # A grant for any grid of a community covers that community's cases without a grid.
    scope = (
        Case.community_id.in_(community_ids)
        | Case.grid_id.in_(grid_ids)
        | (Case.grid_id.is_(None) & Case.community_id.in_(grid_communities))
    )
    return select(Case).where(scope, Case.state == C.verifying)


def is_overdue(case: Case) -> bool:
    """``overdue_clause`` for a case already read: the same states, the same clock."""
    return (
        case.state in DEADLINE_KINDS
        and case.stage_due_at is not None
        and case.stage_due_at < clock.now()
    )


@cache
def _timeline() -> Select:
    return (
        select(CaseEvent)
        .where(CaseEvent.case_id == bindparam("case_id", type_=CaseEvent.case_id.type))
        .order_by(CaseEvent.id)
    )


def timeline(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(_timeline(), {"case_id": case.id}))


@cache
def _case_of_proposal() -> Select:
    # Built once, the proposal bound. Its proposal, community and category are the caller's
    # already (the session's identity map answers them without a query): joined, they cost
    # a hundred columns read and converted on every qualified proposal's page.
    return (
        select(Case)
        .where(Case.proposal_id == bindparam("proposal_id", type_=Case.proposal_id.type))
        .options(lazyload(Case.proposal), lazyload(Case.community), lazyload(Case.category))
    )


@cache
def _case_and_timeline_of_proposal() -> Select:
    return _case_of_proposal().options(joinedload(Case.events))


def steps_read_with(case: Case) -> list[CaseEvent]:
    """The steps of a case read by a statement with ``joinedload(Case.events)``, in order
    (``timeline`` when the case was read earlier in the request without them). For pages that
    only show them: the steps read with a case are not those recorded afterwards."""
    if "events" in inspect(case).unloaded:
        return timeline(case)
    return list(case.events)


def case_and_timeline(p: Proposal) -> tuple[Case, list[CaseEvent]] | None:
    """``case_for_proposal`` and ``timeline`` of it, in one statement (the proposal's page)."""
    if p.status != ProposalStatus.qualified:
        return None
    found = db.session.execute(_case_and_timeline_of_proposal(), {"proposal_id": p.id})
    case = found.unique().scalar_one_or_none()
    return None if case is None else (case, steps_read_with(case))


def case_for_proposal(p: Proposal) -> Case | None:
    """The case ``p`` became; only a qualified proposal becomes one (filing is the step after
    qualifying), so no other asks the database."""
    if p.status != ProposalStatus.qualified:
        return None
    return db.session.scalar(_case_of_proposal(), {"proposal_id": p.id})
