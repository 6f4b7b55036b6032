"""Finding proposals: similar ones (the duplicate check) and text search, from the gram index."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy import false as sa_false

from portal.core import clock
from portal.core.text import grams
from portal.extensions import db
from portal.places.models import Community
from portal.proposals.models import Proposal, ProposalGram
from portal.proposals.services._common import S

# --- finding ---------------------------------------------------------------------------------


def similar(
    community: Community, text: str, *, exclude_id: int | None = None, limit: int = 5
) -> list[Proposal]:
    """Proposals of the community sharing the most n-grams with ``text``: open, qualified or
    from the last 180 days. Uses the gram index (community, gram) — never a scan."""
    wanted = grams(text)
    if not wanted:
        return []
    shared = func.count().label("shared")
    sub = (
        select(ProposalGram.proposal_id, shared)
        .where(ProposalGram.community_id == community.id, ProposalGram.gram.in_(wanted))
        .group_by(ProposalGram.proposal_id)
        .subquery()
    )
    recent = clock.now() - timedelta(days=180)
    stmt = (
        select(Proposal)
        .join(sub, sub.c.proposal_id == Proposal.id)
        # Submissions awaiting review are private to their author and the committee.
        .where(Proposal.status.in_([S.open, S.qualified, S.expired]), Proposal.hidden.is_(False))
        .where((Proposal.status.in_([S.open, S.qualified])) | (Proposal.created_at >= recent))
        # A third of the pairs in common, but two shared pairs suffice for longer texts.
        .where(sub.c.shared * 3 >= min(len(wanted), 6))
        .order_by(sub.c.shared.desc(), Proposal.id.desc())
        .limit(limit)
    )
    if exclude_id:
        stmt = stmt.where(Proposal.id != exclude_id)
    return list(db.session.scalars(stmt).unique())


def similar_to(p: Proposal) -> list[Proposal]:
    """What ``similar`` showed the author before sending ``p`` (its title and summary), for
    the committee deciding on it: the same search, ``p`` itself left out."""
    return similar(p.community, f"{p.title} {p.summary}", exclude_id=p.id)


def _matching_ids(community: ColumnElement[int] | None = None):
    ids = select(ProposalGram.proposal_id).where(
        ProposalGram.gram.in_(bindparam("grams", expanding=True))
    )
    if community is not None:
        ids = ids.where(ProposalGram.community_id == community)
    return ids.group_by(ProposalGram.proposal_id).having(func.count() == bindparam("gram_count"))


def search_clause(community: ColumnElement[int] | None = None):
    """Proposals whose title or summary holds every n-gram of a text, answered from the gram
    index, with the values as parameters (``search_params``): ``grams`` and ``gram_count``;
    ``community``, an expression of the community's id (a bound parameter or a subquery),
    keeps to that community's grams."""
    return Proposal.id.in_(_matching_ids(community))


def search_params(text: str) -> dict | None:
    """The parameters of ``search_clause`` for ``text``; None when it has nothing to look for
    (then nothing matches)."""
    wanted = grams(text)
    return {"grams": wanted, "gram_count": len(wanted)} if wanted else None


def search_filter(stmt, text: str, community_id: int | None = None):
    """Restrict a proposal query to those whose title or summary holds every n-gram of
    ``text`` (two-character Chinese queries included), answered from the gram index."""
    params = search_params(text)
    if params is None:
        return stmt.where(sa_false())
    if community_id is not None:
        params["community"] = community_id
    community: ColumnElement[int] | None = None
    if community_id is not None:
        community = bindparam("community", type_=ProposalGram.community_id.type)
    return stmt.where(Proposal.id.in_(_matching_ids(community).params(**params)))
