"""The sweep: qualifying proposals left at their threshold, and expiring closed windows."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.core import clock
from portal.extensions import db
from portal.proposals.models import Proposal, Support
from portal.proposals.services._common import S
from portal.proposals.services.lifecycle import transition
from portal.proposals.services.supports import _qualify_apart

# --- expiry ----------------------------------------------------------------------------------


def qualify_reached(limit: int = 1000) -> tuple[int, int]:
    """Qualify open proposals at their threshold, left so when the qualification that follows a
    support stored alone did not run or failed. Each in a transaction of its own, stamped with
    the time of its last support, filed or left waiting to be filed (``_file``); one that fails
    again is logged and skipped. Returns (qualified, failed)."""
    done = failed = 0
    after = 0
    while True:
        batch = db.session.scalars(
            select(Proposal.id)
            .where(
                Proposal.status == S.open,
                Proposal.threshold.is_not(None),
                Proposal.support_count >= Proposal.threshold,
                Proposal.id > after,
            )
            .order_by(Proposal.id)
            .limit(limit)
        ).all()
        if not batch:
            return done, failed
        for proposal_id in batch:
            reached = db.session.scalar(
                select(func.max(Support.created_at)).where(Support.proposal_id == proposal_id)
            )
            if _qualify_apart(proposal_id, reached) == S.qualified:
                done += 1
            else:
                failed += 1
        after = batch[-1]


def sweep(limit: int = 1000) -> int:
    """Stamp proposals whose window closed without reaching the threshold as expired."""
    due = db.session.scalars(
        select(Proposal)
        .where(
            Proposal.status == S.open,
            Proposal.closes_at <= clock.now(),
            # One at its threshold is qualified by qualify_reached, never expired.
            Proposal.support_count < func.coalesce(Proposal.threshold, Proposal.support_count + 1),
            # Hidden while its window ran: the window waits until it is restored.
            ~Proposal.window_paused,
        )
        .order_by(Proposal.closes_at)
        .limit(limit)
        # Locked, and read as committed at that moment: a support that counted just before the
        # window closed is seen (and its proposal left alone), never overwritten.
        .with_for_update(of=Proposal, skip_locked=True)
    ).all()
    for p in due:
        transition(p, S.expired, None, role="system", fields={"expired_at": p.closes_at})
    db.session.flush()
    return len(due)
