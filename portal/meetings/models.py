"""Meetings (议事会): the agenda and its items, the agencies invited to answer an item in
writing, their answers and commitments, residents' registrations and questions, and the
decision taken on each item. Votes attach to an agenda item and live beside these models."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


class MeetingState(enum.StrEnum):
    draft = "draft"
    published = "published"
    held = "held"
    archived = "archived"
    cancelled = "cancelled"


ITEM_KINDS = ("proposal", "case", "topic")
DECISIONS = ("agreed-action", "referred-to-agency", "needs-more-input", "no-action")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Meeting(Model):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(s.value for s in MeetingState)})", name="state"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity"),
        CheckConstraint(
            "(state = 'cancelled') = (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL)",
            name="cancelled_is_stamped",
        ),
        CheckConstraint(
            "state NOT IN ('held', 'archived') OR (held_at IS NOT NULL AND minutes IS NOT NULL)",
            name="held_has_minutes",
        ),
        CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name="published_stamped"),
        Index("ix_meetings_community_starts", "community_id", "starts_at", "id"),
        Index("ix_meetings_state_starts", "state", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(12), default=MeetingState.draft.value)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    community = relationship("Community", lazy="joined")
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        order_by="AgendaItem.position",
        cascade="all, delete-orphan",
        lazy="select",
    )


class AgendaItem(Model):
    """One point of the agenda, in order: a proposal, a case or a free topic, with a framing
    note. Invitations, questions, the decision (and a vote) hang from it."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(ITEM_KINDS)})", name="kind"),
        CheckConstraint(
            "(kind = 'proposal' AND proposal_id IS NOT NULL AND case_id IS NULL AND topic IS NULL)"
            " OR (kind = 'case' AND case_id IS NOT NULL AND proposal_id IS NULL AND topic IS NULL)"
            " OR (kind = 'topic' AND topic IS NOT NULL AND proposal_id IS NULL"
            " AND case_id IS NULL)",
            name="kind_matches_subject",
        ),
        CheckConstraint("position >= 1", name="position"),
        Index("ix_agenda_items_meeting", "meeting_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    topic: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    meeting: Mapped[Meeting] = relationship(back_populates="items", lazy="joined")
    proposal = relationship("Proposal", lazy="select")
    case = relationship("Case", lazy="select")


class InvitationState(enum.StrEnum):
    open = "open"  # waiting for a published answer
    answered = "answered"


class Invitation(Model):
    """An agency asked to answer one agenda item in writing by ``due_at``."""

    __tablename__ = "meeting_invitations"
    __table_args__ = (
        UniqueConstraint("item_id", "agency_id", name="uq_meeting_invitations_item_agency"),
        CheckConstraint(f"state IN ({_in(s.value for s in InvitationState)})", name="state"),
        CheckConstraint(
            "(state = 'answered') = (answered_at IS NOT NULL)", name="answered_is_stamped"
        ),
        Index("ix_meeting_invitations_agency_state", "agency_id", "state", "due_at"),
        Index("ix_meeting_invitations_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10), default=InvitationState.open.value)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    item = relationship(AgendaItem, lazy="joined")
    agency = relationship("Agency", lazy="joined")
    answer: Mapped[Answer | None] = relationship(
        back_populates="invitation", uselist=False, lazy="select"
    )


class Answer(Model):
    """The agency's written answer to an invitation: a position, commitments with dates and
    who will attend (a role, not a name). A draft until published; then it is final."""

    __tablename__ = "meeting_answers"
    __table_args__ = (
        UniqueConstraint("invitation_id", name="uq_meeting_answers_invitation"),
        CheckConstraint("state IN ('draft', 'published')", name="state"),
        CheckConstraint(
            "(state = 'published') = (published_at IS NOT NULL)", name="published_is_stamped"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_invitations.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    attendee_role: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(10), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    invitation: Mapped[Invitation] = relationship(back_populates="answer", lazy="joined")
    commitments: Mapped[list[Commitment]] = relationship(
        order_by="Commitment.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Commitment(Model):
    __tablename__ = "meeting_commitments"
    __table_args__ = (Index("ix_meeting_commitments_answer", "answer_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("meeting_answers.id", ondelete="CASCADE"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date)


class Registration(Model):
    """A resident's place at a meeting, or on its waitlist (promoted in order)."""

    __tablename__ = "meeting_registrations"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id", name="uq_meeting_registrations_meeting_user"),
        CheckConstraint("state IN ('registered', 'waitlisted')", name="state"),
        CheckConstraint(
            "(state = 'waitlisted') = (waitlist_position IS NOT NULL)", name="waitlist_position"
        ),
        Index("ix_meeting_registrations_user", "user_id", "meeting_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12), default="registered")
    waitlist_position: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Question(Model):
    """A resident's question on an agenda item, moderated like a comment."""

    __tablename__ = "meeting_questions"
    __table_args__ = (
        CheckConstraint("hidden OR hidden_at IS NULL", name="hidden_is_stamped"),
        CheckConstraint(
            "(answered_at IS NULL) = (answered_by_id IS NULL)", name="answered_is_stamped"
        ),
        Index("ix_meeting_questions_item", "item_id", "id"),
        Index("ix_meeting_questions_author", "author_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_auto: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(20))
    hidden_note: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_count: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item = relationship(AgendaItem, lazy="joined")
    author = relationship("User", lazy="joined", foreign_keys=[author_id])


class Decision(Model):
    """What the meeting decided on one item, published with the minutes."""

    __tablename__ = "meeting_decisions"
    __table_args__ = (
        UniqueConstraint("item_id", name="uq_meeting_decisions_item"),
        CheckConstraint(f"outcome IN ({_in(DECISIONS)})", name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    item = relationship(AgendaItem, lazy="joined")
