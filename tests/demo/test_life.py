"""The demo's months of life (``flask demo``): every proposal status and case stage, made by the
services with consistent times and counts, once, quickly, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.cases import services as cases
from portal.cases.models import Case, CaseEvent, CaseFeedback, CaseState
from portal.core import clock
from portal.deliberation.models import Appeal, Comment, ModerationAction, Report
from portal.demo.life import load_life
from portal.demo.stories import DOCUMENTED
from portal.extensions import db as _db
from portal.notifications.models import Notification
from portal.places.models import Community
from portal.proposals import services as proposals
from portal.proposals.models import Proposal, ProposalEvent, Status, Support
from portal.residency.models import ResidencyRequest, ResidencyStatus

TZ = ZoneInfo("Asia/Shanghai")


def _counts(db) -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in _db.metadata.sorted_tables
    }


def test_flask_demo_plays_the_stories_once_and_prints_the_accounts(app, db):
    runner = app.test_cli_runner()
    started = time.monotonic()
    first = runner.invoke(args=["demo"])
    took = time.monotonic() - started
    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.output
    for email in ("admin@example.org", "committee@example.org", "gridworker@example.org"):
        assert email in first.output
    assert "liaison.urban-management-bureau@example.org" in first.output
    assert "commons-demo-2026" in first.output
    # "A few seconds" on a quiet machine; bounded loosely so that a busy CI runner passes.
    assert took < 90, took
    before = _counts(db)
    assert before["proposals"] > 20 and before["cases"] > 10

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "demo data already present" in again.output
    assert "admin@example.org" in again.output
    assert _counts(db) == before
    assert load_life() is False


# A Monday morning, the day after the National Day week (the calendar's holidays matter), and a
# Wednesday evening of a year the demo's calendar knows no holidays of.
MOMENTS = [
    datetime(2026, 12, 7, 10, 0, tzinfo=TZ),
    datetime(2026, 10, 9, 15, 0, tzinfo=TZ),
    datetime(2027, 3, 3, 20, 30, tzinfo=TZ),
]


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.strftime("%Y-%m-%d"))
def test_every_state_and_stage_is_there(db, now):
    clock.freeze(now)
    assert load_life() is True
    assert clock.now() == now.astimezone(ZoneInfo("UTC"))  # the clock is put back

    ps = list(db.session.scalars(sa.select(Proposal)))
    by_status: dict[Status, list[Proposal]] = {}
    for p in ps:
        by_status.setdefault(proposals.effective_status(p), []).append(p)
    assert set(by_status) == set(Status)
    assert all(p.status == proposals.effective_status(p) for p in ps)  # the sweep stamped expiry
    rejected = {p.reject_reason for p in by_status[Status.rejected]}
    assert "duplicate" in rejected and len(rejected) > 1
    assert all(p.review_note for p in by_status[Status.rejected])
    assert all(p.review_note for p in by_status[Status.changes_requested])
    assert all(p.withdraw_reason for p in by_status[Status.withdrawn])

    open_ = by_status[Status.open]
    progress = {p.support_count / p.threshold for p in open_ if p.threshold}
    assert len(progress) >= 5  # open at various stages of support
    near = [p for p in open_ if p.threshold and p.support_count == p.threshold - 1]
    assert near, "no proposal one support short of its threshold"
    documented = {
        u.id for u in db.session.scalars(sa.select(User).where(User.email.in_(DOCUMENTED)))
    }
    assert any(
        not documented
        & set(db.session.scalars(sa.select(Support.user_id).where(Support.proposal_id == p.id)))
        for p in near
    ), "the documented residents cannot push a proposal over its threshold"
    soon = [p for p in open_ if p.closes_at - clock.now() < timedelta(days=3)]
    assert soon, "no proposal closing soon"

    all_cases = list(db.session.scalars(sa.select(Case)))
    states = {c.state for c in all_cases}
    assert states == set(CaseState)
    overdue = {c.state for c in all_cases if cases.is_overdue(c)}
    assert {CaseState.dispatched, CaseState.in_progress} <= overdue
    on_time = [c for c in all_cases if c.state == CaseState.in_progress and not cases.is_overdue(c)]
    assert on_time
    assert any(c.state == CaseState.in_progress and c.reopen_count for c in all_cases)  # reopened
    assert any(c.state == CaseState.closed and c.reopen_count for c in all_cases)
    assert any(c.extension == "requested" for c in all_cases)
    reasons = {c.close_reason for c in all_cases if c.state == CaseState.closed}
    assert {"resolved", "not-responsible"} <= reasons
    resolved = [c for c in all_cases if c.close_reason == "resolved"]
    assert all(cases.feedback_summary(c)["satisfaction_avg"] for c in resolved)
    actions = set(db.session.scalars(sa.select(CaseEvent.action)))
    assert {
        "file",
        "dispatch",
        "accept",
        "return",
        "reroute",
        "plan",
        "progress",
        "resolve",
    } <= actions
    assert {"verify", "reopen", "close", "request_extension"} <= actions
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(CaseFeedback).where(CaseFeedback.comment != "")
    )
    # Just filed: within the last day, not yet due.
    assert any(c.state == CaseState.dispatched and not cases.is_overdue(c) for c in all_cases)

    # Discussions with stances and replies; a hidden comment, a pending appeal, an open report.
    stances = set(db.session.scalars(sa.select(Comment.stance).where(Comment.stance.is_not(None))))
    assert stances == {"for", "against", "question"}
    assert db.session.scalar(sa.select(sa.func.count()).where(Comment.parent_id.is_not(None))) > 5
    assert {"committee", "liaison"} <= set(db.session.scalars(sa.select(Comment.badge)))
    assert db.session.scalar(sa.select(sa.func.count()).where(Comment.hidden)) >= 1
    assert db.session.scalar(sa.select(Appeal.status)) == "pending"
    assert db.session.scalar(sa.select(sa.func.count()).where(Report.resolved_at.is_(None))) >= 1
    logged = set(db.session.scalars(sa.select(ModerationAction.action)))
    assert {"hide", "reject"} <= logged, logged
    assert db.session.scalar(
        sa.select(sa.func.count()).where(ResidencyRequest.status == ResidencyStatus.pending)
    )
    unread = sa.select(sa.func.count()).where(Notification.read_at.is_(None))
    read = sa.select(sa.func.count()).where(Notification.read_at.is_not(None))
    assert db.session.scalar(unread) and db.session.scalar(read)
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "case.accept"))

    _invariants(db, now.astimezone(ZoneInfo("UTC")))


def _invariants(db, now: datetime) -> None:
    """What real use keeps true: counts match rows, history runs forward and ends before now."""
    for p in db.session.scalars(sa.select(Proposal)):
        supports = db.session.scalar(sa.select(sa.func.count()).where(Support.proposal_id == p.id))
        assert p.support_count == supports, p.title
        events = proposals.history(p)
        times = [e.created_at for e in events]
        assert times == sorted(times) and times[-1] <= now, p.title
        assert events[-1].to_status == p.status.value, p.title
        assert p.created_at <= (p.submitted_at or p.created_at) <= now
        if p.opened_at:
            assert p.submitted_at < p.opened_at
    for community in db.session.scalars(sa.select(Community)):
        residents = db.session.scalar(
            sa.select(sa.func.count()).where(User.community_id == community.id)
        )
        assert community.confirmed_residents == residents, community.code
    for case in db.session.scalars(sa.select(Case)):
        assert case.filed_at == case.proposal.threshold_reached_at
        steps = cases.timeline(case)
        times = [e.created_at for e in steps]
        assert times == sorted(times) and times[-1] <= now, case.number
        if case.stage_due_at is not None:
            assert case.stage_due_at > case.filed_at
    # Nothing the stories made is stamped after now (``load_demo``'s accounts, role grants and
    # routing rules, made at the real time before the test froze the clock, are not theirs).
    for column in (
        Notification.created_at,
        Support.created_at,
        Comment.created_at,
        ProposalEvent.created_at,
        CaseFeedback.created_at,
        Appeal.created_at,
    ):
        assert db.session.scalar(sa.select(sa.func.max(column))) <= now
    staff = sa.select(sa.func.max(AuditEntry.created_at)).where(AuditEntry.actor_id.is_not(None))
    assert db.session.scalar(staff) <= now
