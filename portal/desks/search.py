"""One search for the whole site: a case by its number, proposals and cases by words.

Words are matched through the proposals' character n-gram index (``proposals.services.
search_filter``: Chinese bigrams and Latin words), and with LIKE for what that index cannot
answer (a single Chinese character, a fragment of a case number). Only what a visitor may read
is found: public statuses, nothing hidden. Lists are keyset-paginated on the id, newest first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from portal.cases.models import Case
from portal.core.text import grams
from portal.extensions import db
from portal.proposals import services as proposals
from portal.proposals.models import Proposal, Status

MAX_QUERY = 100  # characters; a longer query is answered with a page saying so
PAGE = 20
PREVIEW = 5  # of each kind on the first, combined page
PUBLIC = (Status.open, Status.qualified, Status.expired, Status.rejected, Status.withdrawn)

# 110101001001-2026-00001: community code, year, sequence (services.file_case).
CASE_NUMBER = re.compile(r"^(\d{12})-(\d{4})-(\d{1,5})$")
NUMBER_FRAGMENT = re.compile(r"^[\d-]{4,23}$")


def normalise(text: str) -> str:
    """Full-width digits and dashes to ASCII, spaces squeezed: what a phone keyboard types."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[‐‑‒–—―－]", "-", text)
    return " ".join(text.split())


def case_number(text: str) -> str | None:
    """The case number ``text`` spells, with the sequence padded as numbers are written."""
    match = CASE_NUMBER.match(text.replace(" ", ""))
    if not match:
        return None
    community, year, seq = match.groups()
    return f"{community}-{year}-{int(seq):05d}"


def find_case_number(number: str) -> str | None:
    return db.session.scalar(select(Case.number).where(Case.number == number))


def _word_filter(stmt, text: str):
    """Proposals whose title or summary holds ``text``: every n-gram of it through the index,
    and a LIKE for the single characters the index does not hold on their own."""
    wanted = grams(text)
    single = [w for w in text.split() if len(w) == 1]
    if wanted and not single:
        return proposals.search_filter(stmt, text)
    like = Proposal.title.contains(text, autoescape=True) | Proposal.summary.contains(
        text, autoescape=True
    )
    return stmt.where(like)


@dataclass
class Results:
    items: list
    before: int | None  # the id to continue from, None at the end


def _page(stmt, column, limit: int, before: int | None) -> Results:
    if before:
        stmt = stmt.where(column < before)
    rows = list(db.session.scalars(stmt.order_by(column.desc()).limit(limit + 1)).unique())
    more = rows[limit - 1] if len(rows) > limit else None
    return Results(rows[:limit], more.id if more is not None else None)


def proposals_matching(text: str, limit: int = PAGE, before: int | None = None) -> Results:
    stmt = select(Proposal).where(Proposal.status.in_(PUBLIC), Proposal.hidden.is_(False))
    stmt = _word_filter(stmt, text).options(
        lazyload("*"), selectinload(Proposal.community).lazyload("*")
    )
    return _page(stmt, Proposal.id, limit, before)


def cases_matching(text: str, limit: int = PAGE, before: int | None = None) -> Results:
    """Cases whose proposal matches the words (a hidden proposal's case is not found by its
    hidden text), or whose number holds a typed fragment of one."""
    matching = _word_filter(
        select(Proposal.id).where(Proposal.hidden.is_(False)), text
    ).scalar_subquery()
    compact = text.replace(" ", "")
    where = (
        Case.proposal_id.in_(matching) | Case.number.contains(compact, autoescape=True)
        if NUMBER_FRAGMENT.match(compact)
        else Case.proposal_id.in_(matching)
    )
    stmt = (
        select(Case)
        .where(where)
        .options(
            lazyload("*"),
            selectinload(Case.proposal).lazyload("*"),
            selectinload(Case.agency).lazyload("*"),
        )
    )
    return _page(stmt, Case.id, limit, before)
