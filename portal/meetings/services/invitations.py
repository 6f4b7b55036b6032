"""Agencies answer in writing: the committee invites an agency per item with a deadline (by
default three working days before the meeting, on the city's calendar); the agency's liaisons
write a position, commitments with dates and who attends, save a draft and publish it. A
deadline passed without a published answer is public, and counted per agency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.cases.calendar import exceptions_between, is_workday
from portal.core import clock
from portal.core.i18n import city_timezone_name, fmt_datetime
from portal.core.i18n import gettext as _
from portal.core.input import clean_text
from portal.extensions import db
from portal.meetings.models import (
    AgendaItem,
    Answer,
    Commitment,
    Invitation,
    InvitationState,
    Meeting,
)
from portal.meetings.services._common import (
    M,
    MeetingError,
    check_changeable,
    check_runs,
    invalid,
    item_proposal_id,
    item_title,
    liaison_ids,
    proposal_people,
)
from portal.notifications.services import notify
from portal.roles import permissions
from portal.roles.models import Agency

DEFAULT_WORKING_DAYS = 3
MAX_BODY, MAX_COMMITMENTS, MAX_ROLE = 10000, 20, 100


def default_due(starts_at: datetime, days: int = DEFAULT_WORKING_DAYS) -> datetime:
    """The end (23:59:59, city time) of the ``days``-th working day before the meeting's day,
    on the city's working-day calendar, in UTC."""
    tz = ZoneInfo(city_timezone_name())
    day = starts_at.astimezone(tz).date()
    exceptions = exceptions_between(day - timedelta(days=days * 3 + 30), day)
    counted = 0
    while counted < days:
        day -= timedelta(days=1)
        if is_workday(day, exceptions):
            counted += 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def invite(user, item: AgendaItem, agency: Agency | None, due_at: datetime | None = None):
    m = item.meeting
    check_runs(user, m)
    check_changeable(m)
    if agency is None:
        raise invalid("agency_code", _("Choose a known agency."))
    if not agency.active:
        raise invalid("agency_code", _("This agency is inactive: it takes no new invitations."))
    if due_at is None:
        due_at = default_due(m.starts_at)
    if due_at.tzinfo is None:
        raise invalid("due_at", _("Give the time with its time zone."))
    if due_at > m.starts_at:
        raise invalid("due_at", _("The answer must be due before the meeting starts."))
    if due_at <= clock.now():
        raise invalid("due_at", _("Choose a deadline in the future."))
    exists = db.session.scalar(
        select(Invitation.id).where(
            Invitation.item_id == item.id, Invitation.agency_id == agency.id
        )
    )
    if exists is not None:
        raise MeetingError("already_invited", _("This agency is already invited to this item."))
    inv = Invitation(
        item_id=item.id,
        item=item,
        agency_id=agency.id,
        agency=agency,
        due_at=due_at,
        state=InvitationState.open.value,
        invited_by_id=user.id,
    )
    db.session.add(inv)
    db.session.flush()
    record(user, "meeting.invite", inv, meeting=m.id, agency=agency.code)
    if m.state == M.published:
        tell_invited(inv)
    return inv


def tell_invited(inv: Invitation) -> None:
    m = inv.item.meeting
    notify(
        liaison_ids([inv.agency_id]),
        "invitation_received",
        inv,
        url=url_for("meetings.answer", invitation_id=inv.id),
        params={
            "item": item_title(inv.item),
            "title": m.title,
            "due": fmt_datetime(inv.due_at, "short"),
        },
    )


# --- answers ---------------------------------------------------------------------------------


@dataclass
class CommitmentIn:
    text: str
    due_on: date


def can_answer(user, inv: Invitation) -> bool:
    return permissions.is_liaison(user, inv.agency)


def save_answer(
    user,
    inv: Invitation,
    *,
    body: str,
    commitments: list[CommitmentIn],
    attendee_role: str | None,
    publish: bool,
) -> Answer:
    """Write or rewrite the draft; ``publish`` makes it public and final."""
    if not can_answer(user, inv):
        raise MeetingError(
            "forbidden", _("Only the invited agency's liaisons answer this."), status=403
        )
    m = inv.item.meeting
    if m.state == M.cancelled:
        raise MeetingError("meeting_cancelled", _("This meeting is cancelled."))
    if m.state == M.draft:
        raise MeetingError("not_found", _("There is no such invitation."), status=404)
    answer = inv.answer
    if answer is not None and answer.state == "published":
        raise MeetingError("answer_published", _("This answer is published and final."))
    body = (body or "").strip()
    if not body:
        raise invalid("body", _("Write the agency's position."))
    if len(body) > MAX_BODY or not clean_text(body):
        raise invalid("body", _("Use at most %(n)d characters.", n=MAX_BODY))
    role = (attendee_role or "").strip()
    if len(role) > MAX_ROLE or not clean_text(role):
        raise invalid("attendee_role", _("Use at most %(n)d characters.", n=MAX_ROLE))
    if len(commitments) > MAX_COMMITMENTS:
        raise invalid("commitments", _("At most %(n)d commitments.", n=MAX_COMMITMENTS))
    cleaned = []
    for c in commitments:
        text = (c.text or "").strip()
        if not text or len(text) > 500 or not clean_text(text):
            raise invalid("commitments", _("Each commitment says what, in at most 500 characters."))
        if c.due_on is None:
            raise invalid("commitments", _("Each commitment has a date."))
        cleaned.append((text, c.due_on))
    now = clock.now()
    if answer is None:
        answer = Answer(invitation_id=inv.id, invitation=inv, author_id=user.id, body=body)
        db.session.add(answer)
    answer.body, answer.attendee_role, answer.author_id = body, role, user.id
    answer.updated_at = now
    answer.commitments = [
        Commitment(position=n, text=t, due_on=d) for n, (t, d) in enumerate(cleaned, start=1)
    ]
    if publish:
        answer.state, answer.published_at = "published", now
        inv.state, inv.answered_at = InvitationState.answered.value, now
    db.session.flush()
    record(user, "meeting.answer_publish" if publish else "meeting.answer_save", answer)
    if publish:
        pid = item_proposal_id(inv.item)
        if pid is not None:
            notify(
                proposal_people(pid),
                "agenda_answered",
                answer,
                url=url_for("meetings.show", meeting_id=m.id) + f"#item-{inv.item_id}",
                params={
                    "agency": {"zh_Hans": inv.agency.name_zh, "en": inv.agency.name_en},
                    "item": item_title(inv.item),
                },
            )
    return answer


# --- what is open, late and missed -----------------------------------------------------------


def missed_condition():
    """An invitation whose deadline passed with no answer published by then (a Core
    expression on ``Invitation``), the one rule behind the public notice and the counts."""
    return and_(
        Invitation.due_at < clock.now(),
        or_(Invitation.answered_at.is_(None), Invitation.answered_at > Invitation.due_at),
    )


def is_missed(inv: Invitation, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return inv.due_at < now and (inv.answered_at is None or inv.answered_at > inv.due_at)


def missed_by_agency(agency_ids=None) -> dict[int, int]:
    """{agency id: invitations whose deadline it missed}, cancelled meetings left out: the
    figure the agencies' accountability reports count."""
    stmt = (
        select(Invitation.agency_id, func.count(Invitation.id))
        .join(AgendaItem, AgendaItem.id == Invitation.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.state.not_in((M.draft.value, M.cancelled.value)), missed_condition())
        .group_by(Invitation.agency_id)
    )
    if agency_ids is not None:
        stmt = stmt.where(Invitation.agency_id.in_(list(agency_ids)))
    return {int(a): int(n) for a, n in db.session.execute(stmt).all()}


def open_invitations(agency: Agency):
    """An agency's invitations still to answer, in published meetings not cancelled, soonest
    deadline first: the liaison's list and the count in the header."""
    return (
        select(Invitation)
        .join(AgendaItem, AgendaItem.id == Invitation.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            Invitation.agency_id == agency.id,
            Invitation.state == InvitationState.open.value,
            Meeting.state == M.published.value,
        )
        .order_by(Invitation.due_at, Invitation.id)
    )


def agency_invitations(agency: Agency, status: str = "open", limit: int = 100):
    if status == "open":
        stmt = open_invitations(agency)
    else:
        stmt = (
            select(Invitation)
            .join(AgendaItem, AgendaItem.id == Invitation.item_id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(Invitation.agency_id == agency.id, Meeting.state != M.draft.value)
            .order_by(Invitation.due_at.desc(), Invitation.id.desc())
        )
    return list(
        db.session.scalars(
            stmt.options(joinedload(Invitation.item).joinedload(AgendaItem.meeting)).limit(limit)
        ).unique()
    )


def remind_due_soon(now: datetime | None = None) -> int:
    """The sweep: liaisons of agencies whose answer is due within a day are told, once."""
    now = now or clock.now()
    rows = db.session.scalars(
        select(Invitation)
        .join(AgendaItem, AgendaItem.id == Invitation.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            Invitation.state == InvitationState.open.value,
            Invitation.reminded_at.is_(None),
            Invitation.due_at > now,
            Invitation.due_at <= now + timedelta(days=1),
            Meeting.state == M.published.value,
        )
        .order_by(Invitation.id)
    ).all()
    for inv in rows:
        inv.reminded_at = now
        notify(
            liaison_ids([inv.agency_id]),
            "invitation_due_soon",
            inv,
            url=url_for("meetings.answer", invitation_id=inv.id),
            params={"item": item_title(inv.item), "due": fmt_datetime(inv.due_at, "short")},
        )
    db.session.flush()
    return len(rows)
