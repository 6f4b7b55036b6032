"""Reading a proposal: its effective status, its support window, who supported it, who sees it."""

from __future__ import annotations

import math
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Select, and_, bindparam, or_, select

from portal.core import clock
from portal.core.database import read
from portal.extensions import db
from portal.places.models import Community
from portal.proposals.models import Proposal, ProposalEvent, Status, Support
from portal.proposals.services._common import SUPPORTABLE, S
from portal.roles import permissions

if TYPE_CHECKING:
    from portal.proposals.cards import Card

# --- reading ---------------------------------------------------------------------------------


class Progress(NamedTuple):
    """A proposal's way to its threshold, as its progress bar shows it."""

    value: int  # supports, up to the threshold (the bar's value)
    percent: int  # of the threshold, 0-100
    reached: bool
    days_left: int  # whole days until the window closes, rounded up (0 when closed)


def support_progress(p: Proposal | Card, now: datetime) -> Progress:
    threshold = p.threshold or 0
    count = p.support_count
    percent = min(100, round(count * 100 / threshold)) if threshold else 0
    days = 0
    if p.closes_at is not None and p.closes_at > now:
        days = math.ceil((p.closes_at - now).total_seconds() / 86400)
    return Progress(min(count, threshold), percent, bool(threshold) and count >= threshold, days)


def effective_status(p: Proposal | Card) -> Status:
    """Expiry is derived at read time too, so it is right even before the sweep stamps it; a
    proposal hidden while its window ran is not expired: its window waits (``resume_window``)."""
    if (
        p.status == S.open
        and p.closes_at is not None
        and p.closes_at <= clock.now()
        and not p.window_paused
    ):
        return S.expired
    return p.status


def status_clause(status: str | None, now=None):
    """``effective_status`` as a WHERE clause: a proposal whose window closed is expired even
    before the sweep stamps it. None: what lists show by default (open and qualified). ``now``
    the time (a bound parameter in statements built once), else the clock's."""
    now = clock.now() if now is None else now
    if status is None:
        return or_(
            and_(Proposal.status == S.open, Proposal.closes_at > now),
            Proposal.status == S.qualified,
        )
    if status == "open":
        return and_(Proposal.status == S.open, Proposal.closes_at > now)
    if status == "expired":
        return or_(
            Proposal.status == S.expired,
            and_(Proposal.status == S.open, Proposal.closes_at <= now),
        )
    return Proposal.status == Status(status)


def window_open(p: Proposal) -> bool:
    return p.status in SUPPORTABLE and p.closes_at is not None and p.closes_at > clock.now()


def resume_window(p: Proposal) -> None:
    """A proposal hidden while its support window ran could not be supported meanwhile: when it
    is restored, its window closes later by the time it was hidden. Call before unhiding."""
    closes_at, hidden_at = p.closes_at, p.hidden_at  # both set while the window is paused
    if p.status in SUPPORTABLE and p.window_paused and closes_at and hidden_at:
        p.closes_at = closes_at + (clock.now() - hidden_at)


def threshold_for(community: Community) -> int:
    by_share = math.ceil(community.support_percent / 100 * community.confirmed_residents)
    return max(community.support_minimum, by_share)


def has_supported(user, p: Proposal) -> bool:
    return bool(supported_ids(user, [p.id]))


@cache
def _supported() -> Select:
    # Built once, the reader and the page's ids bound: every list a resident reads asks it.
    return select(Support.proposal_id).where(
        Support.user_id == bindparam("user_id", type_=Support.user_id.type),
        Support.proposal_id.in_(bindparam("ids", expanding=True)),
    )


def supported_ids(user, proposal_ids: list[int]) -> set[int]:
    """Which of ``proposal_ids`` ``user`` supports (none for a visitor)."""
    if not getattr(user, "is_authenticated", False) or not proposal_ids:
        return set()
    return set(read(_supported(), {"user_id": user.id, "ids": proposal_ids}).scalars())


@cache
def _history() -> Select:
    # Built once, the proposal bound: every proposal's page reads it.
    proposal_id = bindparam("proposal_id", type_=ProposalEvent.proposal_id.type)
    return (
        select(ProposalEvent)
        .where(ProposalEvent.proposal_id == proposal_id)
        .order_by(ProposalEvent.id)
    )


def history(p: Proposal) -> list[ProposalEvent]:
    return list(db.session.scalars(_history(), {"proposal_id": p.id}))


def is_visible(user, p: Proposal) -> bool:
    """Drafts, submissions and change requests are seen by their author and the committee."""
    if p.status in (S.draft, S.submitted, S.changes_requested):
        if not getattr(user, "is_authenticated", False):
            return False
        if p.status == S.draft:
            return user.id == p.author_id
        return user.id == p.author_id or permissions.is_committee(user, p.community)
    return True


def can_read(user, p: Proposal) -> bool:
    """Whether ``user`` may read the proposal's text (title, summary, body, author, place) and
    see its photos. A proposal the committee hid (or that reports hid until it is reviewed)
    keeps only its number, status and the reason it is hidden for everyone but its author and
    the committee that moderates it. Reads only the proposal's own columns, so lists of cases
    can ask it row by row without loading anything more."""
    if not is_visible(user, p):
        return False
    if not p.hidden:
        return True
    return getattr(user, "is_authenticated", False) and (
        user.id == p.author_id or p.community_id in permissions.committee_community_ids(user)
    )
