"""Once the meeting has started, the committee publishes its minutes (the meeting is then held)
and a decision on every item; a decision on a case shows in the case's timeline, and the
authors and supporters of a linked proposal are told."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from portal.audit.services import record
from portal.cases.services import record_event
from portal.core import clock
from portal.core.i18n import force_locale, table_label
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.input import clean_text
from portal.extensions import db
from portal.meetings.models import DECISIONS, AgendaItem, Decision, Meeting
from portal.meetings.services._common import (
    M,
    MeetingError,
    check_runs,
    invalid,
    item_proposal_id,
    item_title,
    proposal_people,
    started,
)
from portal.notifications.services import notify

DECISION_LABELS = {
    "agreed-action": _l("Agreed action"),
    "referred-to-agency": _l("Referred to the agency"),
    "needs-more-input": _l("Needs more input"),
    "no-action": _l("No action"),
}
MAX_MINUTES, MAX_NOTE = 50000, 2000


def decision_label(code: str) -> str:
    return table_label(DECISION_LABELS, code)


@dataclass
class DecisionIn:
    item_id: int
    decision: str
    note: str = ""


def publish_minutes(user, m: Meeting, body: str, decisions: list[DecisionIn]) -> list[Decision]:
    check_runs(user, m)
    if m.state == M.cancelled:
        raise MeetingError("meeting_cancelled", _("This meeting is cancelled."))
    if m.state in (M.held, M.archived):
        raise MeetingError("minutes_published", _("The minutes of this meeting are published."))
    if m.state != M.published or not started(m):
        raise MeetingError(
            "meeting_not_started", _("Minutes are published once the meeting has started.")
        )
    body = (body or "").strip()
    if not body:
        raise invalid("body", _("Write the minutes."))
    if len(body) > MAX_MINUTES or not clean_text(body):
        raise invalid("body", _("Use at most %(n)d characters.", n=MAX_MINUTES))
    items = {it.id: it for it in m.items}
    given: dict[int, DecisionIn] = {}
    for d in decisions:
        if d.item_id not in items:
            raise invalid("decisions", _("Decide on the items of this meeting only."))
        if d.item_id in given:
            raise invalid("decisions", _("One decision per item."))
        if d.decision not in DECISIONS:
            raise invalid("decisions", _("Choose a decision for every item."))
        note = (d.note or "").strip()
        if len(note) > MAX_NOTE or not clean_text(note):
            raise invalid("decisions", _("Use at most %(n)d characters.", n=MAX_NOTE))
        given[d.item_id] = DecisionIn(d.item_id, d.decision, note)
    if set(given) != set(items):
        raise invalid("decisions", _("Choose a decision for every item."))
    now = clock.now()
    m.state, m.minutes, m.held_at, m.updated_at = M.held.value, body, now, now
    rows = []
    for item_id, d in given.items():
        row = Decision(item_id=item_id, outcome=d.decision, note=d.note, decided_by_id=user.id)
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    record(user, "meeting.minutes", m, decisions=len(rows))
    for row in rows:
        _tell(user, m, items[row.item_id], row)
    return rows


def _tell(user, m: Meeting, item: AgendaItem, d: Decision) -> None:
    if item.kind == "case" and item.case is not None:
        record_event(item.case, f"meeting:{d.outcome}", user, "committee", note=d.note or None)
    pid = item_proposal_id(item)
    if pid is not None:
        words = {}
        for loc in ("zh_Hans", "en"):
            with force_locale(loc):
                words[loc] = decision_label(d.outcome)
        notify(
            proposal_people(pid),
            "agenda_decided",
            d,
            url=url_for("meetings.show", meeting_id=m.id) + f"#item-{item.id}",
            params={"item": item_title(item), "decision": words},
        )
    db.session.flush()


def decisions_of(items: list[AgendaItem]) -> dict[int, Decision]:
    ids = [it.id for it in items]
    if not ids:
        return {}
    return {
        d.item_id: d for d in db.session.scalars(select(Decision).where(Decision.item_id.in_(ids)))
    }
