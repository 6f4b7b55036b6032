"""A block: a person barred from taking part in one community (table ``blocks``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


class Block(Model):
    __tablename__ = "blocks"
    __table_args__ = (Index("ix_blocks_active", "community_id", "user_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: permanent
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
