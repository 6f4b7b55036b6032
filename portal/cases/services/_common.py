"""What every case rule shares: the error, the notification types, due times, events and
reopening."""

from __future__ import annotations

from datetime import datetime

from portal.cases.calendar import add_working_days
from portal.cases.models import Case, CaseEvent, CaseState
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.i18n import city_timezone_name
from portal.core.i18n import lazy_gettext as _l
from portal.extensions import db
from portal.notifications.services import register_type

C = CaseState

for _name, _text in {
    "case_filed": _l("Your proposal “%(title)s” is now grid case %(number)s."),
    "case_dispatched": _l(
        "Your proposal “%(title)s” became grid case %(number)s, dispatched to %(agency)s."
    ),
    "case_step": _l("Case %(number)s: %(step)s"),
    "case_assigned": _l("New case %(number)s for your agency: “%(title)s”."),
    "case_overdue": _l("Case %(number)s is overdue."),
    "case_feedback_wanted": _l("Case %(number)s is handled. Is it solved? Tell us."),
}.items():
    register_type(_name, _text)


class CaseError(DomainError):
    """A case rule said no."""


def _due(start: datetime, days: int) -> datetime:
    return add_working_days(start, days, city_timezone_name())


def record_event(
    case: Case,
    action: str,
    actor,
    role: str,
    note: str | None = None,
    expected_at: datetime | None = None,
) -> CaseEvent:
    """Add a step to ``case``'s timeline, taken after the step changed the case: the event
    keeps the state, the agency holding the case and both due times as they now are, so the
    history stays complete when a later step moves them."""
    ev = CaseEvent(
        case_id=case.id,
        action=action,
        state=case.state.value,
        actor_id=getattr(actor, "id", None),
        actor_role=role,
        agency_id=case.agency_id,
        note=note,
        expected_at=expected_at,
        stage_due_at=case.stage_due_at,
        handling_due_at=case.handling_due_at,
    )
    db.session.add(ev)
    return ev


def _reopen(case: Case, actor) -> None:
    """返工: back to in progress, counted against the agency."""
    now = clock.now()
    case.state = C.in_progress
    case.reopen_count += 1
    case.resolved_at = None
    case.handling_due_at = _due(now, case.category.handling_days)
    case.stage_due_at = case.handling_due_at
    case.overdue_notified_at = None
    record_event(case, "reopen", actor, "system" if actor is None else "supervisor")
    db.session.flush()
