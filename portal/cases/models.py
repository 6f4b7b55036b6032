"""Grid cases (网格案件): routing rules, the working-day calendar, cases, their timeline and
the supporters' verification feedback."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


class RoutingRule(Model):
    """(category, place) → agency. A rule without a category is the district's fallback
    (属地兜底) when it sits on a district; the most specific place wins."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        UniqueConstraint("category_key", "place_key", name="uq_routing_rules_category_place"),
        CheckConstraint(
            "(CASE WHEN district_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN street_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN community_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_place",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # "7" or "*" and "district:1" / "street:4" / "community:9": unique together.
    category_key: Mapped[str] = mapped_column(String(20))
    place_key: Mapped[str] = mapped_column(String(40))

    category = relationship("Category", lazy="joined")
    agency = relationship("Agency", lazy="joined")
    district = relationship("District", lazy="joined")
    street = relationship("Street", lazy="joined")
    community = relationship("Community", lazy="joined")

    @property
    def place(self):
        return self.community or self.street or self.district

    @property
    def level(self) -> str:
        return "community" if self.community_id else "street" if self.street_id else "district"


class CalendarDay(Model):
    """An exception to the Monday–Friday week: a public holiday on a weekday, or a make-up
    working day (调休) on a weekend."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(100), default="")


class CaseState(enum.StrEnum):
    dispatched = "dispatched"
    accepted = "accepted"
    returned = "returned"
    in_progress = "in_progress"
    verifying = "verifying"
    closed = "closed"


STATE_VALUES = ", ".join(f"'{s.value}'" for s in CaseState)


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"state IN ({STATE_VALUES})", name="state"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_is_stamped"),
        CheckConstraint(
            "close_reason IS NULL OR close_reason IN ('resolved', 'duplicate', 'not-responsible',"
            " 'no-further-action')",
            name="close_reason",
        ),
        CheckConstraint(
            "extension IN ('none', 'requested', 'approved', 'denied')", name="extension"
        ),
        CheckConstraint("reopen_count >= 0", name="reopen_count"),
        UniqueConstraint("community_id", "year", "sequence", name="uq_cases_community_sequence"),
        Index("ix_cases_agency_state", "agency_id", "state", "id"),
        # The liaison's "all" tab, newest first: without it a small agency's page scanned the
        # whole table backwards for its few cases.
        Index("ix_cases_agency_id", "agency_id", "id"),
        Index("ix_cases_state_due", "state", "stage_due_at"),
        Index("ix_cases_state_closed", "state", "closed_at", "id"),
        Index("ix_cases_community_state", "community_id", "state", "id"),
        Index("ix_cases_category_state", "category_id", "state", "id"),
        # Open311's requests by requested_datetime (filed), newest first, in a date range.
        Index("ix_cases_filed", "filed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    year: Mapped[int]
    sequence: Mapped[int]
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    state: Mapped[CaseState] = mapped_column(
        Enum(CaseState, native_enum=False, length=20, create_constraint=False)
    )
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(String(30))
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the liaison's plan
    handling_due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # 处置时限, from dispatch
    stage_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # current stage's due
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension: Mapped[str] = mapped_column(String(12), default="none")
    extension_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    official_response: Mapped[str | None] = mapped_column(Text)
    verify_passed: Mapped[bool | None]
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    proposal = relationship("Proposal", lazy="joined")
    community = relationship("Community", lazy="joined")
    category = relationship("Category", lazy="joined")
    agency = relationship("Agency", lazy="joined")
    grid = relationship("Grid", lazy="select")
    # Whether it has site photos, when the statement that read it asked (``with_expression``,
    # ``services.has_photos``: the case page), so that a page without any asks nothing more;
    # None when not asked.
    has_photos: Mapped[bool | None] = query_expression()
    # Its steps in order, read only where a page that shows them asks for them with the case
    # (``services.steps_read_with``: the proposal's page, the case page); ``services.timeline``
    # elsewhere, and any other access raises rather than asking the database behind its back.
    events = relationship("CaseEvent", order_by="CaseEvent.id", viewonly=True, lazy="raise")


class CaseCounter(Model):
    """The last case sequence per community and year; bumped with a row lock when filing."""

    __tablename__ = "case_counters"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class CaseEvent(Model):
    """One step of the public timeline, and the case's clock as that step left it.

    Every event records who held the case after it (``agency_id``), the current stage's due
    time (``stage_due_at``: the response limit after a dispatch, the handling limit while the
    case is worked on, the verification limit after it is resolved; none once returned or
    closed) and the handling limit (``handling_due_at``, moved by an approved extension and
    restarted by a re-route or a reopening). The case row keeps only the latest of each; the
    figures of accountability (response, on-time and close rates) are computed from these.
    ``handling_due_at`` is never empty on an event written since 0021; an empty one marks a step
    from before, whose due times were not recorded and could not be recovered."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))  # the state after the step
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))  # liaison, supervisor, ..., system
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    note: Mapped[str | None] = mapped_column(Text)
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stage_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handling_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    agency = relationship("Agency", lazy="joined")


class CaseFeedback(Model):
    """A supporter's answer to "is it solved?". Who answered is never shown, only counts."""

    __tablename__ = "case_feedback"
    __table_args__ = (
        UniqueConstraint("case_id", "user_id", name="uq_case_feedback_case_user"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(default=0)  # the reopen count it answers
    solved: Mapped[bool]
    satisfaction: Mapped[int]
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class CasePhoto(Model):
    """A photo taken at the site check (核查), cleaned like proposal photos (portal.media)."""

    __tablename__ = "case_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    name: Mapped[str] = mapped_column(String(64))
    thumb_name: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
