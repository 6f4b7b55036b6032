"""What one proposal and its case contribute to the figures, computed from their stored
history (the case's events keep the agency and both due times each step left, see
``CaseEvent``). Pure: takes loaded rows and the time, returns fact dicts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from portal.cases.models import Case, CaseEvent
from portal.proposals.models import Proposal

# Days to close: one bucket per day up to 30 days, then wider ones. A bucket is named by the
# most days it holds, so a percentile read from the buckets is exact up to 30 days and an
# upper bound beyond; 366 means "more than a year".
WIDE_BUCKETS = (45, 60, 90, 180, 365)
OVER_A_YEAR = 366

DISPATCHES = ("dispatch", "reroute")
RESPONSES = ("accept", "return")


def bucket_of(days: int) -> int:
    if days <= 30:
        return max(days, 0)
    for edge in WIDE_BUCKETS:
        if days <= edge:
            return edge
    return OVER_A_YEAR


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def proposal_facts(
    proposal: Proposal,
    case: Case | None,
    events: list[CaseEvent],
    feedback: list[tuple[int, int]],
    now: datetime,
    tz: ZoneInfo,
) -> list[dict]:
    """The facts of ``proposal``; ``events`` are its case's in order, ``feedback`` the
    (user id, satisfaction) answers (one per person: the table keeps each person's last)."""
    facts: list[dict] = []
    if proposal.submitted_at is None:
        return facts
    unit = {"community_id": proposal.community_id, "category_id": proposal.category_id}
    if case is not None and case.closed_at is not None:
        reached = "closed"
    elif case is not None or proposal.threshold_reached_at is not None:
        reached = "qualified"
    elif proposal.opened_at is not None:
        reached = "opened"
    else:
        reached = "submitted"
    facts.append(
        {
            **unit,
            "kind": "submitted",
            "outcome": reached,
            "day": local_day(proposal.submitted_at, tz),
            "agency_id": case.agency_id if case is not None else 0,
        }
    )
    if case is None:
        return facts
    unit = {"community_id": case.community_id, "category_id": case.category_id}
    facts.append(
        {
            **unit,
            "kind": "opened",
            "outcome": "filed",
            "day": local_day(case.filed_at, tz),
            "agency_id": case.agency_id,
        }
    )
    facts.extend(_responses(case, events, now, tz, unit))
    facts.append(_due(case, events, now, tz, unit))
    if case.closed_at is not None:
        days = (local_day(case.closed_at, tz) - local_day(case.filed_at, tz)).days
        closing = next((e for e in reversed(events) if e.action == "close"), None)
        facts.append(
            {
                **unit,
                "kind": "closed",
                "outcome": "reworked" if case.reopen_count > 0 else "clean",
                "day": local_day(case.closed_at, tz),
                "agency_id": (closing.agency_id if closing is not None else None) or case.agency_id,
                "bucket": bucket_of(days),
                "answers": len(feedback),
                "satisfied": sum(1 for _user, score in feedback if score >= 4),
            }
        )
    return facts


def _responses(case, events, now, tz, unit) -> list[dict]:
    """One fact per dispatch (or re-route), answerable by the agency it went to: on time when
    that agency accepted or returned it by the stage's due time (the response limit)."""
    found = []
    for i, ev in enumerate(events):
        if ev.action not in DISPATCHES:
            continue
        answer = next((e for e in events[i + 1 :] if e.action in RESPONSES + DISPATCHES), None)
        if answer is not None and answer.action in DISPATCHES:
            answer = None
        due = ev.stage_due_at
        decides_at = None
        if ev.handling_due_at is None or due is None:
            outcome = "unrecorded"
        elif answer is not None:
            outcome = "on_time" if answer.created_at <= due else "late"
        elif now > due:
            outcome = "late"
        else:
            outcome, decides_at = "waiting", due
        found.append(
            {
                **unit,
                "kind": "response",
                "outcome": outcome,
                "day": local_day(ev.created_at, tz),
                "agency_id": ev.agency_id or case.agency_id,
                "decides_at": decides_at,
            }
        )
    return found


def _due(case, events, now, tz, unit) -> dict:
    """The case's handling limit as it last stood (moved by extensions, restarted by a
    re-route or a reopening), answerable by the agency then holding the case; on time when
    the case closed by it. A limit from before the history was kept is "unrecorded"; a case
    returned and not yet re-routed is "returned" (counted in no rate)."""
    last = events[-1] if events else None
    due = last.handling_due_at if last is not None else None
    decides_at = None
    if due is None:
        outcome = "unrecorded"
        day = local_day(case.handling_due_at, tz)
    else:
        day = local_day(due, tz)
        if case.closed_at is not None:
            outcome = "on_time" if case.closed_at <= due else "late"
        elif case.state.value == "returned":
            # Returned and waiting for the supervisor to re-route it: no agency holds it, so
            # none is answerable for its limit now (the re-route restarts it).
            outcome = "returned"
        elif now > due:
            outcome = "overdue"
        else:
            outcome, decides_at = "waiting", due
    return {
        **unit,
        "kind": "due",
        "outcome": outcome,
        "day": day,
        "agency_id": (last.agency_id if last is not None else None) or case.agency_id,
        "decides_at": decides_at,
    }
