"""Residency: a person's confirmed link to one community, by request or invitation code."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


class ResidencyStatus(enum.StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"
    withdrawn = "withdrawn"  # replaced by a newer request from the same person


class ResidencyRequest(Model):
    __tablename__ = "residency_requests"
    __table_args__ = (
        # One pending request per person, enforced by the database.
        Index(
            "uq_residency_requests_one_pending",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # The committee's queue: pending requests of a community, oldest first.
        Index("ix_residency_requests_queue", "community_id", "status", "created_at"),
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'rejected', 'withdrawn')", name="status"
        ),
        CheckConstraint(
            "status != 'rejected' OR (reason IS NOT NULL AND reason != '')",
            name="rejection_has_reason",
        ),
        CheckConstraint("status = 'pending' OR decided_at IS NOT NULL", name="decision_is_stamped"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    address_note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ResidencyStatus] = mapped_column(
        Enum(ResidencyStatus, native_enum=False, length=12, create_constraint=False),
        default=ResidencyStatus.pending,
    )
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation_codes.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    community = relationship("Community", lazy="joined")


class InvitationBatch(Model):
    __tablename__ = "invitation_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    size: Mapped[int]
    label: Mapped[str] = mapped_column(String(100), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    community = relationship("Community", lazy="joined")


class InvitationCode(Model):
    """A one-time code printed on a letter to a household; using it confirms residency."""

    __tablename__ = "invitation_codes"
    __table_args__ = (
        CheckConstraint("(used_by_id IS NULL) = (used_at IS NULL)", name="use_is_stamped"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("invitation_batches.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    community = relationship("Community", lazy="joined")
