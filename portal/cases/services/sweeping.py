"""The sweep (cron): settle verifications whose period ended, announce overdue stages."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from portal.cases.models import Case
from portal.cases.services._common import C, _reopen, record_event
from portal.cases.services._telling import _liaisons, _supervisors, _tell
from portal.cases.services.feedback import feedback_summary
from portal.cases.signals import case_closed
from portal.core import clock
from portal.extensions import db
from portal.notifications.services import notify

# --- sweep -----------------------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """For cron, safe to run twice: settle verifications whose period ended, then mark and
    announce overdue stages once each."""
    now = clock.now()
    done = {"closed": 0, "reopened": 0, "overdue": 0}
    ending = db.session.scalars(
        select(Case).where(Case.state == C.verifying, Case.stage_due_at <= now)
    ).all()
    for case in ending:
        answers = feedback_summary(case, case.reopen_count)
        majority_no = answers["solved_no"] * 2 > answers["solved_yes"] + answers["solved_no"]
        if case.verify_passed and not majority_no:
            case.state, case.closed_at, case.close_reason = C.closed, now, "resolved"
            case.stage_due_at = None
            record_event(case, "close", None, "system")
            db.session.flush()
            _tell(case, "close", True)
            case_closed.send(case, actor=None, reason="resolved")
            done["closed"] += 1
        else:
            _reopen(case, None)
            _tell(case, "reopen", True)
            done["reopened"] += 1
    late = db.session.scalars(
        select(Case).where(
            Case.state.in_([C.dispatched, C.accepted, C.in_progress, C.verifying]),
            Case.stage_due_at < now,
            Case.overdue_notified_at.is_(None),
        )
    ).all()
    for case in late:
        case.overdue_notified_at = now
        url = url_for("cases.show", number=case.number)
        notify(
            sorted(set(_liaisons(case.agency)) | set(_supervisors(case))),
            "case_overdue",
            case,
            url=url,
            params={"number": case.number},
        )
        done["overdue"] += 1
    db.session.flush()
    return done
