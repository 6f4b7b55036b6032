"""The agenda: items in order, each a proposal (open or qualified) or a case of the meeting's
community, or a free topic, with a short framing note."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.services import record
from portal.cases.models import Case
from portal.core.i18n import gettext as _
from portal.core.input import clean_text
from portal.extensions import db
from portal.meetings.models import AgendaItem, Meeting
from portal.meetings.services._common import check_changeable, check_runs, invalid
from portal.meetings.services.lifecycle import announce_item, tell_changed
from portal.proposals.models import Proposal, Status

AGENDA_STATUSES = (Status.open, Status.qualified)
MAX_NOTE, MAX_TOPIC = 2000, 200


def _note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE or not clean_text(note):
        raise invalid("note", _("Use at most %(n)d characters.", n=MAX_NOTE))
    return note


def _subject(
    m: Meeting, proposal_id: int | None, case_number: str | None, topic: str | None
) -> dict:
    given = [v for v in (proposal_id, case_number, topic) if v not in (None, "")]
    if len(given) != 1:
        raise invalid("topic", _("Choose one proposal, one case or write a topic."))
    if proposal_id is not None:
        p = db.session.get(Proposal, proposal_id)
        if p is None or p.community_id != m.community_id:
            raise invalid("proposal_id", _("Choose a proposal of this community."))
        if p.status not in AGENDA_STATUSES:
            raise invalid(
                "proposal_id", _("Only an open or qualified proposal goes on the agenda.")
            )
        if p.hidden:
            raise invalid("proposal_id", _("This proposal is hidden by moderation."))
        return {"kind": "proposal", "proposal_id": p.id, "proposal": p}
    if case_number:
        c = db.session.scalar(select(Case).where(Case.number == case_number.strip()))
        if c is None or c.community_id != m.community_id:
            raise invalid("case_number", _("Choose a case of this community."))
        return {"kind": "case", "case_id": c.id, "case": c}
    text = (topic or "").strip()
    if not text or len(text) > MAX_TOPIC or not clean_text(text):
        raise invalid("topic", _("Write the topic in at most %(n)d characters.", n=MAX_TOPIC))
    return {"kind": "topic", "topic": text}


def add_item(
    user,
    m: Meeting,
    *,
    proposal_id: int | None = None,
    case_number: str | None = None,
    topic: str | None = None,
    note: str | None = None,
) -> AgendaItem:
    check_runs(user, m)
    check_changeable(m)
    subject = _subject(m, proposal_id, case_number, topic)
    for other in m.items:
        if (subject["kind"] == "proposal" and other.proposal_id == subject["proposal_id"]) or (
            subject["kind"] == "case" and other.case_id == subject["case_id"]
        ):
            field = "proposal_id" if subject["kind"] == "proposal" else "case_number"
            raise invalid(field, _("This is already on the agenda."))
    last = db.session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == m.id)
    )
    item = AgendaItem(meeting=m, position=(last or 0) + 1, note=_note(note), **subject)
    db.session.add(item)
    db.session.flush()
    record(user, "meeting.item_add", item, meeting=m.id, kind=item.kind)
    announce_item(user, m, item)
    tell_changed(m, {"agenda"})
    return item


def _item_of(m: Meeting, item_id: int) -> AgendaItem:
    for item in m.items:
        if item.id == item_id:
            return item
    raise invalid("item_id", _("Choose an item of this meeting."))


def move_item(user, m: Meeting, item_id: int, direction: str) -> None:
    """One place up or down."""
    check_runs(user, m)
    check_changeable(m)
    item = _item_of(m, item_id)
    items = list(m.items)
    at = items.index(item)
    to = at - 1 if direction == "up" else at + 1
    if direction not in ("up", "down") or not 0 <= to < len(items):
        raise invalid("direction", _("This item cannot move further."))
    items[at], items[to] = items[to], items[at]
    for n, it in enumerate(items, start=1):
        it.position = n
    db.session.flush()
    db.session.expire(m, ["items"])
    record(user, "meeting.item_move", item, meeting=m.id, direction=direction)
    tell_changed(m, {"agenda"})


def reorder(user, m: Meeting, item_ids: list[int]) -> None:
    """The whole order at once (the API): every item of the meeting, each once."""
    check_runs(user, m)
    check_changeable(m)
    by_id = {it.id: it for it in m.items}
    if sorted(item_ids) != sorted(by_id):
        raise invalid("item_ids", _("List every item of the agenda once."))
    for n, ident in enumerate(item_ids, start=1):
        by_id[ident].position = n
    db.session.flush()
    db.session.expire(m, ["items"])
    record(user, "meeting.reorder", m)
    tell_changed(m, {"agenda"})


def remove_item(user, m: Meeting, item_id: int) -> None:
    check_runs(user, m)
    check_changeable(m)
    item = _item_of(m, item_id)
    m.items.remove(item)
    db.session.delete(item)
    db.session.flush()
    for n, it in enumerate(sorted(m.items, key=lambda i: i.position), start=1):
        it.position = n
    db.session.flush()
    record(user, "meeting.item_remove", ("agenda_items", item_id), meeting=m.id)
    tell_changed(m, {"agenda"})
