"""The dashboard's summary tables, derived from the cases' and proposals' stored history.

``DashboardFact``: what one proposal (and its case) contributes to the figures, one row per
counted thing — recomputed for that proposal whenever it or its case changes (``rollup``).
``DashboardRollup``: the facts summed per day and per month, for each scope (city, district,
community, agency); a page sums a few of these rows over its period, never the facts or the
cases themselves. Both can be rebuilt from the history at any time (``flask dashboard
refresh --all``)."""

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


# What a rollup row is the sum of; in this order also the index every read uses: one scope,
# one split, one grain, a range of periods.
ROLLUP_KEY = (
    "scope",
    "scope_id",
    "split",
    "grain",
    "period",
    "kind",
    "outcome",
    "split_id",
    "bucket",
)


class DashboardRollup(Model):
    """The facts summed per period and scope, so that a page reads tens of rows whatever the
    number of cases. A fact adds to a row of each ``grain`` (``d``: its local day, ``m``: the
    first day of its month) for each ``scope`` it belongs to (``city`` with ``scope_id`` 0, its
    ``district``, its ``community``, its ``agency`` when it has one), split three ways:
    ``split`` "" keeps the days-to-close ``bucket``; "agency" (``split_id`` the agency, case
    figures only) feeds the league table; "category" (``split_id`` the category, opened cases
    only) feeds the chart by category. ``n`` facts, ``answers`` and ``satisfied`` feedback
    answers; kept by atomic increments (``n = n + delta``), so concurrent changes add up. A
    period reads whole months from the month rows and its edges from the day rows."""

    __tablename__ = "dashboard_rollup"
    __table_args__ = (UniqueConstraint(*ROLLUP_KEY, name="uq_dashboard_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int]
    split: Mapped[str] = mapped_column(String(8))
    grain: Mapped[str] = mapped_column(String(1))
    period: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(12))
    split_id: Mapped[int]
    bucket: Mapped[int]
    n: Mapped[int] = mapped_column(default=0)
    answers: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
