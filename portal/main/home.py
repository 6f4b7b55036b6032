"""What the home page shows: a few indexed, bounded queries for each kind of reader.

- Everyone: proposals closest to their threshold and closing soonest (from the open proposals
  closing first, on the (status, closes_at) index), cases resolved lately with their agency,
  and two figures of this month.
- A confirmed resident: open proposals of their community they have not supported yet, and
  the state of what they raised and supported (with the case's stage, once it became one).
- Staff: their desks with counts (the header's, already counted for this request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, exists, func, select

from portal.cases import cards as case_cards
from portal.cases.models import Case, CaseState
from portal.core.database import read
from portal.core.i18n import city_timezone_name
from portal.proposals.cards import Card, cards, select_cards
from portal.proposals.models import Proposal, Status, Support

SHOWN = 5
# How many of the open proposals closing first are ranked for "close to the threshold": a bound
# on the work, so the page costs the same in a city of a thousand communities.
CANDIDATES = 200
RESOLVED_WITHIN = timedelta(days=90)


def _open_now(now):
    return and_(
        Proposal.status == Status.open, Proposal.closes_at > now, Proposal.hidden.is_(False)
    )


# The statements every visitor's home page runs, built once with the time as a bound
# parameter: building them (options, joins, subqueries) cost more Python than running them.
_NOW = bindparam("now", type_=Proposal.closes_at.type)


@cache
def _closing_soon():
    stmt = select_cards().where(_open_now(_NOW)).order_by(Proposal.closes_at, Proposal.id)
    return stmt.limit(SHOWN)


def closing_soon(now: datetime) -> list[Card]:
    return cards(_closing_soon(), {"now": now})


@cache
def _near_threshold():
    # Ranked within the candidates, so that only the few shown are joined to their names.
    candidates = (
        select(Proposal.id, Proposal.support_count, Proposal.threshold)
        .where(_open_now(_NOW))
        .order_by(Proposal.closes_at, Proposal.id)
        .limit(CANDIDATES)
        .subquery()
    )
    share = candidates.c.support_count * 1.0 / func.nullif(candidates.c.threshold, 0)
    top = (
        select(candidates.c.id, share.label("share"))
        .where(candidates.c.support_count > 0)
        .order_by(share.desc().nulls_last(), candidates.c.id)
        .limit(SHOWN)
        .subquery()
    )
    return (
        select_cards()
        .join(top, top.c.id == Proposal.id)
        .order_by(top.c.share.desc().nulls_last(), Proposal.id)
    )


def near_threshold(now: datetime) -> list[Card]:
    """Of the open proposals closing first, those with the largest share of their threshold."""
    return cards(_near_threshold(), {"now": now})


@cache
def _resolved_lately():
    return case_cards.select_resolved_rows(
        select(Case)
        .where(
            Case.state == CaseState.closed,
            Case.close_reason == "resolved",
            Case.closed_at >= bindparam("since", type_=Case.closed_at.type),
        )
        .order_by(Case.closed_at.desc(), Case.id.desc())
        .limit(SHOWN)
    )


def resolved_lately(now: datetime) -> list[case_cards.ResolvedCard]:
    return case_cards.resolved_views(_resolved_lately(), {"since": now - RESOLVED_WITHIN})


def month_start(now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(city_timezone_name()))
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first.astimezone(ZoneInfo("UTC"))


@dataclass
class Figures:
    raised: int  # proposals raised this month (drafts not counted)
    closed: int  # cases resolved and closed this month
    on_time: int  # of those, handled within their time limit (处置时限, extensions included)


@cache
def _figures():
    start = bindparam("start", type_=Proposal.created_at.type)
    # The last proposal written before the month: ids grow with time, so counting the ids above
    # it reads this month's rows only, on the primary key, however long the history.
    before = (
        select(Proposal.id)
        .where(Proposal.created_at < start)
        .order_by(Proposal.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    raised = (
        select(func.count())
        .where(
            Proposal.id > func.coalesce(before, 0),
            Proposal.created_at >= start,
            Proposal.status != Status.draft,
        )
        .scalar_subquery()
    )
    resolved = and_(
        Case.state == CaseState.closed, Case.close_reason == "resolved", Case.closed_at >= start
    )
    on_time = case((Case.resolved_at <= Case.handling_due_at, 1), else_=0)
    return select(raised, func.count(Case.id), func.coalesce(func.sum(on_time), 0)).where(resolved)


def figures(now: datetime) -> Figures:
    row = read(_figures(), {"start": month_start(now)}).one()
    return Figures(raised=int(row[0] or 0), closed=int(row[1] or 0), on_time=int(row[2] or 0))


@cache
def _needs_support():
    user_id = bindparam("user_id", type_=Support.user_id.type)
    supported = exists().where(Support.proposal_id == Proposal.id, Support.user_id == user_id)
    return (
        select_cards()
        .where(
            _open_now(_NOW),
            Proposal.community_id == bindparam("community_id", type_=Proposal.community_id.type),
            ~supported,
        )
        .order_by(Proposal.closes_at, Proposal.id)
        .limit(SHOWN)
    )


def needs_support(user, now: datetime) -> list[Card]:
    """Open proposals of the resident's community they have not supported, closing first."""
    params = {"now": now, "user_id": user.id, "community_id": user.community_id}
    return cards(_needs_support(), params)


@dataclass
class Mine:
    proposal: Card
    raised: bool  # written by them (else: supported)


@cache
def _mine():
    raised_ids = (
        select(Proposal.id)
        .where(Proposal.author_id == bindparam("user_id", type_=Proposal.author_id.type))
        .order_by(Proposal.id.desc())
        .limit(SHOWN)
    )
    supported_ids = (
        select(Support.proposal_id)
        .where(Support.user_id == bindparam("user_id", type_=Support.user_id.type))
        .order_by(Support.id.desc())
        .limit(SHOWN)
    )
    found = select_cards().where(Proposal.id.in_(bindparam("ids", expanding=True)))
    return raised_ids, supported_ids, found


def mine(user) -> list[Mine]:
    """What the resident raised (newest first) and then what they supported; a proposal both
    raised and supported shows once. The cases they became come from ``hooks.cases_of``."""
    raised_ids, supported_ids, found = _mine()
    params = {"user_id": user.id}
    ids = list(read(raised_ids, params).scalars().all())
    supported = [i for i in read(supported_ids, params).scalars().all() if i not in ids]
    wanted = ids + supported
    if not wanted:
        return []
    by_id = {p.id: p for p in cards(found, {"ids": wanted})}
    return [Mine(by_id[i], i in ids) for i in wanted if i in by_id]
