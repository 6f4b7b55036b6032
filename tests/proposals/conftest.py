"""Proposal factories: one per lifecycle state, built through the real services."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.proposals import services
from portal.proposals.models import Category, Status
from tests.conftest import NASTY, user_by_email

_n = itertools.count(1)


@pytest.fixture
def category(db):
    return db.session.scalar(sa.select(Category).where(Category.code == "health"))


@pytest.fixture
def make_proposal(app, db, community, category):
    """make_proposal(status="open", author=None, title=None, threshold=None)."""

    def _make(
        status: str = "open",
        author=None,
        title: str | None = None,
        summary: str | None = None,
        threshold: int | None = None,
        community_=None,
    ):
        target = community_ or community
        author = author or user_by_email("resident1@example.org")
        committee = user_by_email(
            "committee@example.org" if target.code == "110101001001" else "committee.b@example.org"
        )
        n = next(_n)
        with app.test_request_context("/"):
            p = services.create(
                author,
                target,
                title=title or f"提议{n} {NASTY[:20]}",
                summary=summary or f"摘要 {n}",
                body=f"正文 **{n}** {NASTY}",
                category=category,
                submit=status != "draft",
            )
            if status in ("open", "qualified", "expired", "rejected", "changes_requested"):
                decision = {"rejected": "reject", "changes_requested": "request_changes"}.get(
                    status, "approve"
                )
                services.review(
                    committee,
                    p,
                    decision,
                    reason_code="other" if decision == "reject" else None,
                    note="请补充位置",
                )
                if threshold is not None and p.status == Status.open:
                    p.threshold = threshold
            if status == "qualified":
                p.threshold = 2
                db.session.flush()
                services.support(user_by_email("resident2@example.org"), p)
            if status == "expired":
                clock.freeze(None)
                p.closes_at = clock.now() - timedelta(minutes=1)
            if status == "withdrawn":
                services.withdraw(author, p, "已解决")
            db.session.commit()
        assert p.status.value == status or (status == "expired" and p.status == Status.open)
        return p

    return _make
