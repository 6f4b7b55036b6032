"""Proposals (提议): categories, the proposal and its status history, secret supports, and
the character n-gram index behind search and duplicate detection."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portal.core import clock
from portal.core.i18n import localized
from portal.core.types import UTCDateTime
from portal.extensions import Model


class Category(Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    icon: Mapped[str] = mapped_column(String(8), default="•")  # a symbol shown beside the name
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Case time limits in working days: to accept or return, to handle (处置时限), to verify.
    response_days: Mapped[int] = mapped_column(default=1, server_default="1")
    handling_days: Mapped[int] = mapped_column(default=15, server_default="15")
    verification_days: Mapped[int] = mapped_column(default=3, server_default="3")

    def name(self, locale: str) -> str:
        return localized(self.name_zh, self.name_en, locale)


class Status(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    changes_requested = "changes_requested"
    open = "open"
    qualified = "qualified"
    expired = "expired"
    rejected = "rejected"
    withdrawn = "withdrawn"


class RejectReason(enum.StrEnum):
    duplicate = "duplicate"
    not_public_interest = "not-public-interest"
    outside_community_remit = "outside-community-remit"
    offensive = "offensive"
    personal_data = "personal-data"
    already_in_progress = "already-in-progress"
    other = "other"


STATUS_VALUES = ", ".join(f"'{s.value}'" for s in Status)
REASON_VALUES = ", ".join(f"'{r.value}'" for r in RejectReason)


class Proposal(Model):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="status"),
        CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        CheckConstraint(
            "status NOT IN ('open', 'qualified', 'expired') OR (opened_at IS NOT NULL"
            " AND closes_at IS NOT NULL AND threshold IS NOT NULL)",
            name="open_has_window",
        ),
        CheckConstraint(
            "(status = 'qualified') = (threshold_reached_at IS NOT NULL)",
            name="qualified_is_stamped",
        ),
        CheckConstraint(
            "status != 'rejected' OR (reject_reason IS NOT NULL"
            f" AND reject_reason IN ({REASON_VALUES}))",
            name="rejection_has_reason",
        ),
        CheckConstraint(
            "reject_reason IS NULL OR reject_reason != 'duplicate' OR duplicate_of_id IS NOT NULL",
            name="duplicate_points_to_original",
        ),
        CheckConstraint("status != 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn"),
        # Hidden since when: the support window is paused meanwhile (services.resume_window).
        CheckConstraint("hidden = (hidden_at IS NOT NULL)", name="hidden_is_stamped"),
        # Waiting to be filed as a case (services.file_waiting): only a qualified proposal, since
        # when and why (the filing error's code).
        CheckConstraint(
            "filing_pending_since IS NULL OR status = 'qualified'", name="filing_pending_qualified"
        ),
        CheckConstraint(
            "(filing_pending_since IS NULL) = (filing_error IS NULL)",
            name="filing_pending_has_error",
        ),
        # Lists: a community's proposals by status, newest, most supported, closing soon, active.
        Index("ix_proposals_community_status_id", "community_id", "status", "id"),
        Index("ix_proposals_community_top", "community_id", "support_count", "id"),
        Index("ix_proposals_community_closes", "community_id", "closes_at", "id"),
        Index("ix_proposals_community_active", "community_id", "last_activity_at", "id"),
        Index("ix_proposals_review_queue", "community_id", "status", "submitted_at"),
        Index("ix_proposals_status_closes", "status", "closes_at", "id"),
        Index("ix_proposals_filing_pending_since", "filing_pending_since"),
        # "My proposals": a person's own, newest first (keyset on the id).
        Index("ix_proposals_author", "author_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    title: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown as written
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitised once, on save
    location_note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20, create_constraint=False), default=Status.draft
    )
    threshold: Mapped[int | None]  # frozen when the proposal opens
    support_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(String(1000))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    threshold_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str | None] = mapped_column(String(40))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdraw_reason: Mapped[str | None] = mapped_column(String(500))
    # Moderation flags (not statuses): a hidden proposal keeps its status and supports.
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())
    hidden_auto: Mapped[bool] = mapped_column(default=False, server_default=false())
    hidden_reason: Mapped[str | None] = mapped_column(String(20))
    hidden_note: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_count: Mapped[int] = mapped_column(default=0, server_default="0")
    locked: Mapped[bool] = mapped_column(default=False, server_default=false())
    lock_reason: Mapped[str | None] = mapped_column(String(500))
    # Reached its threshold but its case could not be filed yet (no routing rule, say): since
    # when, and the error's code; cleared when the case is filed.
    filing_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    filing_error: Mapped[str | None] = mapped_column(String(40))

    # Whether it has photos, when the statement that loaded it asked (``with_expression``: the
    # page's statement, ``services.has_photos``), so that a page without photos asks nothing
    # more; None when not asked.
    has_photos: Mapped[bool | None] = query_expression()

    community = relationship("Community", lazy="joined")
    category = relationship(Category, lazy="joined")
    author = relationship("User", lazy="joined", foreign_keys=[author_id])
    grid = relationship("Grid", lazy="select")
    duplicate_of = relationship("Proposal", remote_side=[id], lazy="select")

    @hybrid_property
    def window_paused(self) -> bool:
        """Hidden while its support window ran: the window waits until it is restored."""
        return window_paused(self.hidden, self.hidden_at, self.closes_at)

    @window_paused.inplace.expression
    @classmethod
    def _window_paused_expression(cls):
        return and_(cls.hidden, cls.hidden_at < cls.closes_at)


def window_paused(hidden: bool, hidden_at: datetime | None, closes_at: datetime | None) -> bool:
    """``Proposal.window_paused`` of these values (list cards read rows, not proposals)."""
    return bool(
        hidden and hidden_at is not None and closes_at is not None and hidden_at < closes_at
    )


class ProposalEvent(Model):
    """The public status history: who (by role) moved the proposal where, when, and why."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))  # author | committee | system
    reason_code: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Support(Model):
    """One resident's support (附议). Secret: only counts leave the database, and a resident's
    own supports."""

    __tablename__ = "supports"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id", name="uq_supports_proposal_user"),
        Index("ix_supports_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class ProposalGram(Model):
    """Inverted index of character bigrams (and Latin words) of title and summary, per
    community: Chinese-aware search and similarity without scanning every row."""

    __tablename__ = "proposal_grams"
    __table_args__ = (
        PrimaryKeyConstraint("community_id", "gram", "proposal_id", name="pk_proposal_grams"),
        Index("ix_proposal_grams_gram", "gram", "proposal_id"),
        Index("ix_proposal_grams_proposal", "proposal_id"),
    )

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    gram: Mapped[str] = mapped_column(String(32))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))


class ProposalPhoto(Model):
    """A photo of the place concerned: re-encoded without metadata, stored under a generated
    name outside the code tree (see portal.media)."""

    __tablename__ = "proposal_photos"
    __table_args__ = (Index("ix_proposal_photos_proposal", "proposal_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    thumb_name: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
