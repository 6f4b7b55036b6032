"""What pages and the API read: a community's upcoming and past meetings, the meetings of a
proposal or case, one meeting's items with their invitations, answers, questions and
decisions, and the committee's meetings to prepare."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, exists, or_, select
from sqlalchemy.orm import selectinload

from portal.core import clock
from portal.core.database import read
from portal.core.i18n import lazy_gettext as _l
from portal.core.i18n import table_label
from portal.extensions import db
from portal.meetings.models import (
    AgendaItem,
    Answer,
    Decision,
    Invitation,
    InvitationState,
    Meeting,
    Question,
)
from portal.meetings.services._common import M, started
from portal.meetings.services.invitations import is_missed
from portal.meetings.services.minutes import decisions_of
from portal.meetings.services.questions import questions_of

STATE_LABELS = {
    "draft": _l("Draft, not public yet"),
    "published": _l("Published, upcoming"),
    "started": _l("Under way"),
    "held": _l("Held, minutes published"),
    "archived": _l("Held and archived"),
    "cancelled": _l("Cancelled"),
}


def state_key(m: Meeting, now: datetime | None = None) -> str:
    """The state in words' key: a published meeting whose start passed is under way."""
    if m.state == M.published and started(m, now):
        return "started"
    return m.state


def state_label(m: Meeting) -> str:
    return table_label(STATE_LABELS, state_key(m))


def community_meetings(community, *, past: bool, include_drafts: bool = False, limit: int = 50):
    """Upcoming (soonest first) or past (latest first) meetings of a community; past means
    ended, held, archived or cancelled with its time gone."""
    now = clock.now()
    stmt = select(Meeting).where(Meeting.community_id == community.id)
    if not include_drafts:
        stmt = stmt.where(Meeting.state != M.draft.value)
    if past:
        stmt = stmt.where(
            or_(Meeting.ends_at <= now, Meeting.state.in_((M.held.value, M.archived.value)))
        ).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    else:
        stmt = stmt.where(
            Meeting.ends_at > now, Meeting.state.not_in((M.held.value, M.archived.value))
        ).order_by(Meeting.starts_at, Meeting.id)
    return list(db.session.scalars(stmt.limit(limit)))


def meetings_between(community=None, start=None, end=None, limit: int = 100):
    """Public meetings (no drafts) by start, for the API and the calendar feed."""
    stmt = select(Meeting).where(Meeting.state != M.draft.value)
    if community is not None:
        stmt = stmt.where(Meeting.community_id == community.id)
    if start is not None:
        stmt = stmt.where(Meeting.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Meeting.starts_at < end)
    return list(db.session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


@dataclass
class ItemView:
    """One agenda item as pages and the API show it."""

    item: AgendaItem
    invitations: list[Invitation] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    decision: Decision | None = None

    def published_answer(self, inv: Invitation) -> Answer | None:
        a = inv.answer
        return a if a is not None and a.state == "published" else None


def item_views(m: Meeting, user) -> list[ItemView]:
    items = list(m.items)
    ids = [it.id for it in items]
    invs: dict[int, list[Invitation]] = {i: [] for i in ids}
    if ids:
        for inv in db.session.scalars(
            select(Invitation)
            .where(Invitation.item_id.in_(ids))
            .options(selectinload(Invitation.answer))
            .order_by(Invitation.id)
        ):
            invs[inv.item_id].append(inv)
    qs = questions_of(items, user)
    ds = decisions_of(items)
    return [ItemView(it, invs[it.id], qs[it.id], ds.get(it.id)) for it in items]


def invitation_status(inv: Invitation, now: datetime | None = None) -> str:
    """answered | late (answered after the deadline) | missed (none by the deadline) | open"""
    if inv.state == InvitationState.answered:
        return "answered" if not is_missed(inv, now) else "late"
    return "missed" if is_missed(inv, now) else "open"


class SubjectMeeting(NamedTuple):
    """A public meeting as a proposal's or a case's page names it."""

    id: int
    title: str
    starts_at: datetime
    state: str


class SubjectItem(NamedTuple):
    """The meeting's agenda item on the proposal or the case (its anchor on the meeting)."""

    id: int


class SubjectDecision(NamedTuple):
    """The meeting's decision on the item."""

    outcome: str
    note: str
    created_at: datetime


@cache
def _subject_statement(by_case: bool) -> Select:
    """``meetings_for_subject``'s query, built once, with the subject bound: only the columns
    the pages show, the item's decision (one at most) joined, read as rows: most proposals
    and cases no meeting took up, and this runs on every one of their pages."""
    subject = AgendaItem.case_id if by_case else AgendaItem.proposal_id
    return (
        select(
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Meeting.state,
            AgendaItem.id,
            Decision.id,
            Decision.outcome,
            Decision.note,
            Decision.created_at,
        )
        .join_from(AgendaItem, Meeting, Meeting.id == AgendaItem.meeting_id)
        .outerjoin(Decision, Decision.item_id == AgendaItem.id)
        .where(Meeting.state != M.draft.value, subject == bindparam("subject_id"))
        .order_by(Meeting.starts_at.desc(), AgendaItem.id)
    )


def meetings_for_subject(
    *, proposal_id: int | None = None, case_id: int | None = None
) -> list[tuple[SubjectMeeting, SubjectItem, SubjectDecision | None]]:
    """Public meetings with an item on this proposal or case: (meeting, item, decision), in
    one statement."""
    by_case = proposal_id is None
    params = {"subject_id": case_id if by_case else proposal_id}
    return [
        (
            SubjectMeeting(r[0], r[1], r[2], r[3]),
            SubjectItem(r[4]),
            None if r[5] is None else SubjectDecision(r[6], r[7], r[8]),
        )
        for r in read(_subject_statement(by_case), params).all()
    ]


def to_prepare(community, now=None):
    """The committee's meetings to prepare: upcoming (draft or published, not started) with an
    invitation not answered yet; a statement, counted by the desk. ``now`` may be a bound
    parameter (the desks' statement is built once)."""
    now = clock.now() if now is None else now
    unanswered = exists(
        select(Invitation.id)
        .join(AgendaItem, AgendaItem.id == Invitation.item_id)
        .where(AgendaItem.meeting_id == Meeting.id, Invitation.state == InvitationState.open.value)
    )
    return (
        select(Meeting)
        .where(
            Meeting.community_id == community.id,
            Meeting.state.in_((M.draft.value, M.published.value)),
            Meeting.starts_at > now,
            or_(unanswered, Meeting.state == M.draft.value),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )


def missing_answers(m: Meeting) -> int:
    from sqlalchemy import func

    return (
        db.session.scalar(
            select(func.count(Invitation.id))
            .join(AgendaItem, AgendaItem.id == Invitation.item_id)
            .where(AgendaItem.meeting_id == m.id, Invitation.state == InvitationState.open.value)
        )
        or 0
    )
