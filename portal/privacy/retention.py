"""Retention: closed records lose their personal data after ``ANONYMISE_AFTER_DAYS``, the
access log forgets views older than ``ACCESS_LOG_DAYS``, sign-in codes and sent messages go
after a few days (``flask privacy anonymise``, run daily).

What stays is what the public figures need: a decided residency request keeps its status and
dates (the committee's typical decision time), feedback keeps its answer and score (the
satisfaction rate); the words people wrote for staff alone go."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from portal.accounts.models import SmsCode, SmsNumber
from portal.audit.models import AccessEntry
from portal.cases.models import Case, CaseFeedback, CaseState
from portal.core.database import rowcount
from portal.deliberation.models import Report
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.residency.models import ResidencyRequest, ResidencyStatus

# The record of a sent code (its HMAC, number, address and time) outlives its day of caps by
# a day; a sent message (mail, text) stays in the outbox a month, for support questions.
CODES_KEPT_DAYS = 2
OUTBOX_KEPT_DAYS = 30


def anonymise(now: datetime) -> dict[str, int]:
    """One pass; safe to run again (only rows still holding something are touched)."""
    cfg = current_app.config
    closed_before = now - timedelta(days=cfg["ANONYMISE_AFTER_DAYS"])
    seen_before = now - timedelta(days=cfg["ACCESS_LOG_DAYS"])
    residency = rowcount(
        db.session.execute(
            update(ResidencyRequest)
            .where(
                ResidencyRequest.status != ResidencyStatus.pending,
                ResidencyRequest.decided_at < closed_before,
                ResidencyRequest.address_note != "",
            )
            .values(address_note="")
        )
    )
    # A resolved report's outcome lives in the moderation log and on the content; the report
    # itself only ties a resident to what they reported.
    reports = rowcount(db.session.execute(delete(Report).where(Report.resolved_at < closed_before)))
    closed_cases = select(Case.id).where(
        Case.state == CaseState.closed, Case.closed_at < closed_before
    )
    feedback = rowcount(
        db.session.execute(
            update(CaseFeedback)
            .where(CaseFeedback.case_id.in_(closed_cases), CaseFeedback.comment != "")
            .values(comment="")
        )
    )
    # Sign-in codes count against the caps for a day; then only the number would be left.
    codes_before = now - timedelta(days=CODES_KEPT_DAYS)
    codes = rowcount(db.session.execute(delete(SmsCode).where(SmsCode.created_at < codes_before)))
    db.session.execute(
        delete(SmsNumber).where(
            SmsNumber.last_sent_at < codes_before,
            ~select(SmsCode.id).where(SmsCode.phone == SmsNumber.phone).exists(),
        )
    )
    sent = rowcount(
        db.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.sent_at < now - timedelta(days=OUTBOX_KEPT_DAYS)
            )
        )
    )
    access = rowcount(
        db.session.execute(delete(AccessEntry).where(AccessEntry.created_at < seen_before))
    )
    return {
        "residency_requests": residency,
        "reports": reports,
        "feedback": feedback,
        "sms_codes": codes,
        "sent_messages": sent,
        "access_log": access,
    }
