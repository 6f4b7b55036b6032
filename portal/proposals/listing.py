"""Proposal lists for pages and the API: filters, four sorts, keyset cursors.

Every sort orders by indexed columns ending in the id, and pages continue after the last row
seen (no OFFSET, no COUNT), so a page costs the same on the first page and the thousandth.
A page is read as ``cards.Card`` rows; its statement is built once per shape of the filters
(which of them are set, the status, the sort, whether it continues a page), with the values
as bound parameters: building it cost more Python than running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, select, tuple_

from portal.core import clock
from portal.core.input import BadCursor as BadCursor  # what ``page`` raises
from portal.core.input import Key, decode_cursor, encode_cursor
from portal.places.models import Community, Street
from portal.proposals import hooks, services
from portal.proposals.cards import CARD_COLUMNS as CARD_COLUMNS  # what a card reads
from portal.proposals.cards import Card, cards_and_cases, select_cards
from portal.proposals.models import Category, Proposal

PUBLIC_STATUSES = ("open", "qualified", "expired", "rejected", "withdrawn")
SORTS = ("new", "top", "closing", "active")


@dataclass
class Filters:
    community_id: int | None = None
    # A community named by its code (the API's filter), found in the page's own statement: a
    # code that names none gives an empty page, which the caller tells from an empty list.
    community_code: str | None = None
    district_id: int | None = None
    category: Category | None = None
    status: str | None = None  # one of PUBLIC_STATUSES, or None for open + qualified
    q: str = ""
    sort: str = "new"


def decode(cursor: str | None, sort: str) -> list | None:
    """The (key, id) of a cursor of this sort, the key parsed; BadCursor for anything else."""
    key = {"top": Key.count, "closing": Key.instant, "active": Key.instant}.get(sort, Key.id)
    return decode_cursor(cursor, key, Key.id)


_INSTANT = Proposal.closes_at.type


@lru_cache(maxsize=1024)
def _statement(
    status: str | None, place: str | None, category: bool, search: bool, sort: str, after: bool
):
    """The statement of a page: ``place`` "community", "community_code", "district" or None;
    its parameters: now, community (an id), community_code or district, category, the
    search's (``services.search_params``), after_key and after_id (continuing a page), and
    limit."""
    stmt = hooks.with_cases(select_cards()).where(
        services.status_clause(status, bindparam("now", type_=_INSTANT)),
        Proposal.hidden.is_(False),
    )
    community: ColumnElement[int] | None = None
    if place == "community":
        community = bindparam("community", type_=Proposal.community_id.type)
    elif place == "community_code":
        community = (
            select(Community.id)
            .where(Community.code == bindparam("community_code", type_=Community.code.type))
            .scalar_subquery()
        )
    if community is not None:
        stmt = stmt.where(Proposal.community_id == community)
    elif place == "district":
        in_district = (
            select(Community.id)
            .join(Street)
            .where(Street.district_id == bindparam("district"))
            .correlate(None)  # the communities of the district, not the card's own
        )
        stmt = stmt.where(Proposal.community_id.in_(in_district))
    if category:
        stmt = stmt.where(Proposal.category_id == bindparam("category"))
    if search:
        stmt = stmt.where(services.search_clause(community))
    stmt = stmt.limit(bindparam("limit"))
    after_id = bindparam("after_id", type_=Proposal.id.type)
    if sort == "top":
        if after:
            key = bindparam("after_key", type_=Proposal.support_count.type)
            stmt = stmt.where(tuple_(Proposal.support_count, Proposal.id) < tuple_(key, after_id))
        return stmt.order_by(Proposal.support_count.desc(), Proposal.id.desc())
    if sort == "closing":
        stmt = stmt.where(Proposal.closes_at.is_not(None))
        if after:
            key = bindparam("after_key", type_=_INSTANT)
            stmt = stmt.where(tuple_(Proposal.closes_at, Proposal.id) > tuple_(key, after_id))
        return stmt.order_by(Proposal.closes_at.asc(), Proposal.id.asc())
    if sort == "active":
        if after:
            key = bindparam("after_key", type_=_INSTANT)
            stmt = stmt.where(
                tuple_(Proposal.last_activity_at, Proposal.id) < tuple_(key, after_id)
            )
        return stmt.order_by(Proposal.last_activity_at.desc(), Proposal.id.desc())
    if after:
        stmt = stmt.where(Proposal.id < after_id)
    return stmt.order_by(Proposal.id.desc())


def query(f: Filters, sort: str, after: list | None, limit: int) -> tuple[Select, dict] | None:
    """The statement of a page of proposals and its parameters (None: a search for nothing)."""
    place = None
    if f.community_id is not None:
        place = "community"
    elif f.community_code is not None:
        place = "community_code"
    elif f.district_id is not None:
        place = "district"
    params = {
        "now": clock.now(),
        "community": f.community_id,
        "community_code": f.community_code,
        "district": f.district_id,
        "category": f.category.id if f.category is not None else None,
        "limit": limit,
    }
    search = bool(f.q.strip())
    if search:
        found = services.search_params(f.q)
        if found is None:
            return None
        params.update(found)
    if after is not None:
        params["after_key"], params["after_id"] = after
    sorted_by = _statement(f.status, place, f.category is not None, search, sort, after is not None)
    return sorted_by, params


def _key(p: Card, sort: str) -> list:
    if sort == "top":
        return [p.support_count, p.id]
    if sort == "closing":
        return [p.closes_at.isoformat() if p.closes_at else None, p.id]
    if sort == "active":
        return [p.last_activity_at.isoformat(), p.id]
    return [p.id, p.id]


class Page(NamedTuple):
    items: list[Card]
    next_cursor: str | None  # None at the end
    cases: dict  # {proposal id: case} of those that became one (``hooks.with_cases``)


def page(f: Filters, cursor: str | None, limit: int) -> Page:
    """One page of proposals, the cursor of the next page, and their cases, in one
    statement."""
    sort = f.sort if f.sort in SORTS else "new"
    found = query(f, sort, decode(cursor, sort), limit + 1)
    if found is None:
        return Page([], None, {})
    rows, cases = cards_and_cases(*found)
    nxt = encode_cursor(_key(rows[limit - 1], sort)) if len(rows) > limit else None
    return Page(rows[:limit], nxt, cases)
