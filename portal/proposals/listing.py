"""Proposal lists for pages and the API: filters, four sorts, keyset cursors.

Every sort orders by indexed columns ending in the id, and pages continue after the last row
seen (no OFFSET, no COUNT), so a page costs the same on the first page and the thousandth.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import lazyload, load_only

from portal.core.input import BadCursor as BadCursor  # what ``page`` raises
from portal.core.input import Key, decode_cursor, encode_cursor
from portal.extensions import db
from portal.places.models import Community, Street
from portal.proposals import services
from portal.proposals.models import Category, Proposal

PUBLIC_STATUSES = ("open", "qualified", "expired", "rejected", "withdrawn")
SORTS = ("new", "top", "closing", "active")


@dataclass
class Filters:
    community: Community | None = None
    district_id: int | None = None
    category: Category | None = None
    status: str | None = None  # one of PUBLIC_STATUSES, or None for open + qualified
    q: str = ""
    sort: str = "new"


def decode(cursor: str | None, sort: str) -> list | None:
    """The (key, id) of a cursor of this sort, the key parsed; BadCursor for anything else."""
    key = {"top": Key.count, "closing": Key.instant, "active": Key.instant}.get(sort, Key.id)
    return decode_cursor(cursor, key, Key.id)


# What a card of a list reads of a proposal (pages, the API's list items, the home page): its
# title, summary, status and window, counts, and the ids of its community and category (joined
# by the model). The text as written and its HTML (up to kilobytes a row), the review, photos
# and moderation notes stay in the database: each column read costs a conversion per row.
CARD_COLUMNS = (
    Proposal.id,
    Proposal.title,
    Proposal.summary,
    Proposal.status,
    Proposal.support_count,
    Proposal.threshold,
    Proposal.opened_at,
    Proposal.closes_at,
    Proposal.threshold_reached_at,
    Proposal.last_activity_at,
    Proposal.hidden,
    Proposal.hidden_at,
    Proposal.community_id,
    Proposal.category_id,
    Proposal.author_id,
)
_LIST_OPTIONS = (load_only(*CARD_COLUMNS), lazyload(Proposal.author))


def query(f: Filters):
    stmt = (
        select(Proposal)
        .where(services.status_clause(f.status), Proposal.hidden.is_(False))
        .options(*_LIST_OPTIONS)
    )
    if f.community is not None:
        stmt = stmt.where(Proposal.community_id == f.community.id)
    elif f.district_id is not None:
        stmt = stmt.where(
            Proposal.community_id.in_(
                select(Community.id).join(Street).where(Street.district_id == f.district_id)
            )
        )
    if f.category is not None:
        stmt = stmt.where(Proposal.category_id == f.category.id)
    if f.q.strip():
        stmt = services.search_filter(stmt, f.q, f.community.id if f.community else None)
    return stmt


def _key(p: Proposal, sort: str) -> list:
    if sort == "top":
        return [p.support_count, p.id]
    if sort == "closing":
        return [p.closes_at.isoformat() if p.closes_at else None, p.id]
    if sort == "active":
        return [p.last_activity_at.isoformat(), p.id]
    return [p.id, p.id]


def page(f: Filters, cursor: str | None, limit: int) -> tuple[list[Proposal], str | None]:
    """One page of proposals and the cursor of the next page (None at the end)."""
    sort = f.sort if f.sort in SORTS else "new"
    stmt = query(f)
    after = decode(cursor, sort)
    if sort == "top":
        if after:
            stmt = stmt.where(tuple_(Proposal.support_count, Proposal.id) < tuple_(*after))
        stmt = stmt.order_by(Proposal.support_count.desc(), Proposal.id.desc())
    elif sort == "closing":
        stmt = stmt.where(Proposal.closes_at.is_not(None))
        if after:
            stmt = stmt.where(tuple_(Proposal.closes_at, Proposal.id) > tuple_(after[0], after[1]))
        stmt = stmt.order_by(Proposal.closes_at.asc(), Proposal.id.asc())
    elif sort == "active":
        if after:
            stmt = stmt.where(
                tuple_(Proposal.last_activity_at, Proposal.id) < tuple_(after[0], after[1])
            )
        stmt = stmt.order_by(Proposal.last_activity_at.desc(), Proposal.id.desc())
    else:
        if after:
            stmt = stmt.where(Proposal.id < after[1])
        stmt = stmt.order_by(Proposal.id.desc())
    rows = list(db.session.scalars(stmt.limit(limit + 1)).unique())
    nxt = encode_cursor(_key(rows[limit - 1], sort)) if len(rows) > limit else None
    return rows[:limit], nxt
