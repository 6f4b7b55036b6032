"""Deliberation (议事): comments with a stance, reports, moderation actions (the public log),
blocks and appeals. Hidden is a flag on the content, never a proposal status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.blocks.models import Block as Block  # who may not take part (people layer)
from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model

STANCES = ("for", "against", "question")
REPORT_REASONS = ("spam", "offensive", "personal-data", "off-topic", "other")
HIDE_REASONS = ("spam", "offensive", "personal-data", "off-topic", "other")
RESTORE_REASONS = ("no-violation", "edited-by-author", "appeal-upheld", "other")


class Comment(Model):
    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(
            "(parent_id IS NULL AND stance IN ('for', 'against', 'question'))"
            " OR (parent_id IS NOT NULL AND stance IS NULL)",
            name="stance_on_top_level",
        ),
        CheckConstraint("hidden OR hidden_at IS NULL", name="hidden_is_stamped"),
        Index("ix_comments_thread", "proposal_id", "parent_id", "id"),
        Index("ix_comments_stance", "proposal_id", "stance", "id"),
        # "My comments": a person's own, newest first (keyset on the id).
        Index("ix_comments_author", "author_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    stance: Mapped[str | None] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Posted as an official: "committee" or "liaison", with the agency for liaisons.
    badge: Mapped[str | None] = mapped_column(String(20))
    badge_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_auto: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(20))
    hidden_note: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_count: Mapped[int] = mapped_column(default=0)

    author = relationship("User", lazy="joined")
    badge_agency = relationship("Agency", lazy="joined")
    # Loaded only where asked for (a person's own comments list their proposals).
    proposal = relationship("Proposal", lazy="select")


class Report(Model):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint(
            "target_type", "target_id", "reporter_id", name="uq_reports_target_reporter"
        ),
        CheckConstraint("target_type IN ('proposal', 'comment', 'question')", name="target_type"),
        Index("ix_reports_open", "community_id", "resolved_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int]
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModerationAction(Model):
    """One entry of the public moderation log (and of the audit log)."""

    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_log", "community_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    action: Mapped[str] = mapped_column(String(30))
    automatic: Mapped[bool] = mapped_column(default=False)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(1000))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))  # committee | supervisor | system
    target_type: Mapped[str] = mapped_column(String(10))  # proposal | comment | user
    target_id: Mapped[int]
    # For hide/restore: the author of the content (told, and who may appeal).
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Appeal(Model):
    __tablename__ = "appeals"
    __table_args__ = (
        UniqueConstraint("action_id", name="uq_appeals_action"),
        CheckConstraint("status IN ('pending', 'upheld', 'reversed')", name="status"),
        CheckConstraint("status = 'pending' OR decided_at IS NOT NULL", name="decided"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("moderation_actions.id"))
    appellant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Who decides: another committee member, or the district supervisor.
    decider_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(String(1000))

    action = relationship(ModerationAction, lazy="joined")
