"""The dashboard's summary tables, derived from the cases' and proposals' stored history.

``DashboardFact``: what one proposal (and its case) contributes to the figures, one row per
counted thing — recomputed for that proposal whenever it or its case changes (``rollup``).
``DashboardDaily``: the facts summed per local day, figure, outcome and unit (community,
agency, category, and the days-to-close histogram bucket); a page sums these rows over its
period, never the facts or the cases themselves. Both can be rebuilt from the history at any
time (``flask dashboard refresh --all``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.types import UTCDateTime
from portal.extensions import Model


class DashboardFact(Model):
    """``kind``: submitted (a proposal, on its submission day; ``outcome`` the furthest step:
    submitted, opened, qualified, closed), opened (a case, on its filing day), response (a
    dispatch or re-route, on its day: on_time, late, waiting, unrecorded), due (a case's
    handling limit, on its day: on_time, late, overdue, waiting, unrecorded, returned), closed
    (a case, on its closing day: clean or reworked, with the days it took and its feedback).
    ``decides_at``: when a waiting outcome turns late if nothing happens (the refresh command
    revisits those)."""

    __tablename__ = "dashboard_facts"
    __table_args__ = (Index("ix_dashboard_facts_outcome_decides", "outcome", "decides_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(12))
    day: Mapped[date] = mapped_column(Date)
    community_id: Mapped[int]
    agency_id: Mapped[int] = mapped_column(default=0)  # 0: no agency (a proposal)
    category_id: Mapped[int]
    bucket: Mapped[int] = mapped_column(default=0)  # days to close, histogram bucket
    answers: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    decides_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DashboardDaily(Model):
    """The facts summed per key; ``n`` facts, ``answers`` and ``satisfied`` feedback answers.
    Kept up to date by atomic increments (``n = n + delta``), so concurrent changes add up."""

    __tablename__ = "dashboard_daily"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "kind",
            "outcome",
            "community_id",
            "agency_id",
            "category_id",
            "bucket",
            name="uq_dashboard_daily_key",
        ),
        Index("ix_dashboard_daily_kind_day", "kind", "day"),
        Index("ix_dashboard_daily_community_day", "community_id", "day"),
        Index("ix_dashboard_daily_agency_day", "agency_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(12))
    community_id: Mapped[int]
    agency_id: Mapped[int]
    category_id: Mapped[int]
    bucket: Mapped[int]
    n: Mapped[int] = mapped_column(default=0)
    answers: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
