"""A person's own comments, newest first, with the proposal each was written on: the "my
comments" page and the API's ``/me/comments``. A statement only; the caller pages it by id
(keyset) on the (author_id, id) index."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, lazyload

from portal.deliberation.models import Comment
from portal.proposals.models import Proposal


def my_comments(user):
    """The comments ``user`` wrote (deleted and hidden ones included, for their author), each
    with its proposal loaded in the same query (what ``proposals.can_read`` asks of it)."""
    return (
        select(Comment)
        .join(Proposal, Proposal.id == Comment.proposal_id)
        .where(Comment.author_id == user.id)
        .options(lazyload("*"), contains_eager(Comment.proposal).lazyload("*"))
    )
