"""A person's own proposals, in every state, and the proposals they supported: the "my"
pages and the API's ``/me`` lists. Statements only; the caller pages them by id (keyset),
newest first, on the (author_id, id) and (user_id, id) indexes."""

from __future__ import annotations

from sqlalchemy import BindParameter, Select, select

from portal.proposals.models import Proposal, Status, Support
from portal.proposals.services.reading import status_clause

# Every state, as ``effective_status`` names it: "open" is still open, "expired" includes an
# open proposal whose window closed before the sweep stamped it.
MINE_STATUSES = tuple(s.value for s in Status)


def my_proposals(user, status: str | None = None, stmt: Select | None = None, *, now=None):
    """The proposals ``user`` wrote, drafts and hidden ones included, of one state or all:
    ``stmt`` (``select(Proposal)`` unless given, e.g. the columns of a page) narrowed to them.
    For a statement built once, ``user`` and ``now`` are bound parameters (of the author's id
    and the time ``status`` is judged at, else the clock's)."""
    author = user if isinstance(user, BindParameter) else user.id
    stmt = (select(Proposal) if stmt is None else stmt).where(Proposal.author_id == author)
    if status is not None:
        stmt = stmt.where(status_clause(status, now))
    return stmt


def my_supports(user):
    """(proposal, supported at, support id) of what ``user`` supported; page on Support.id."""
    return (
        select(Proposal, Support.created_at, Support.id)
        .join(Support, Support.proposal_id == Proposal.id)
        .where(Support.user_id == user.id)
    )
