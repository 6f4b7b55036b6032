"""Who is blocked where: the one predicate every feature asks."""

from __future__ import annotations

from sqlalchemy import select

from portal.blocks.models import Block
from portal.core import clock
from portal.extensions import db


def active_block(user, community_id: int) -> Block | None:
    """The block in force on ``user`` in the community, or None (always None when signed out)."""
    if not getattr(user, "is_authenticated", False):
        return None
    now = clock.now()
    return db.session.scalar(
        select(Block)
        .where(
            Block.community_id == community_id,
            Block.user_id == user.id,
            Block.lifted_at.is_(None),
            (Block.until.is_(None)) | (Block.until > now),
        )
        .limit(1)
    )


def is_blocked(user, community_id: int) -> bool:
    return active_block(user, community_id) is not None
