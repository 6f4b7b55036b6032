"""The dashboard's figures for a scope (city, district, community, agency) and a period of
local days, read from the rollup: a handful of grouped queries over the scope's rows of the
period (its whole months from the month rows, its edges from the day rows), whatever the
number of cases. Every rate comes with its numerator and denominator, and is
None (shown as "—") when the denominator is 0."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, Select, and_, bindparam, case, func, or_, select

from portal.cases.models import Case
from portal.cases.services import overdue_clause
from portal.core.database import read
from portal.core.i18n import city_timezone_name
from portal.core.types import UTCDateTime
from portal.meetings.models import AgendaItem, Invitation, Meeting, MeetingState
from portal.places.services import district_community_ids
from portal.proposals.models import Category
from portal.transparency.dashboard.facts import OVER_A_YEAR
from portal.transparency.dashboard.models import DashboardRollup as R


@dataclass
class Scope:
    level: str  # city, district, community, agency
    obj: object | None = None  # the District, Community or Agency

    @property
    def code(self) -> str | None:
        return getattr(self.obj, "code", None)


@dataclass
class Rate:
    num: int
    den: int
    extra: dict = field(default_factory=dict)  # e.g. waiting, unrecorded: shown, not counted

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None

    @property
    def percent(self) -> int | None:
        return None if self.value is None else round(self.value * 100)


def scope_filter(stmt, scope: Scope, community_col, agency_col, scope_id=None):
    """``stmt`` narrowed to ``scope`` over rows of a community and an agency (facts, cases):
    to its object's id, or to ``scope_id`` (a bound parameter, for a statement built once per
    level of scope and run for any place or agency of that level)."""
    if scope.level == "city":
        return stmt
    ident = scope.obj.id if scope_id is None else scope_id  # type: ignore[attr-defined]
    if scope.level == "community":
        return stmt.where(community_col == ident)
    if scope.level == "district":
        return stmt.where(community_col.in_(district_community_ids(ident)))
    if scope.level == "agency":
        return stmt.where(agency_col == ident)
    return stmt


def _scope_params(scope: Scope) -> dict:
    """The ``scope_id`` of a statement narrowed with ``scope_filter(…, scope_id=SCOPE_ID)``."""
    return {"scope_id": getattr(scope.obj, "id", 0)}


SCOPE_ID = bindparam("scope_id", type_=Integer)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_pieces(start: date, end: date) -> list[tuple[str, date, date]]:
    """``[start, end]`` as rollup ranges ``(grain, first day, last day)``: the whole months in it
    from the month rows, the days before and after them from the day rows."""
    first_month = start if start.day == 1 else _next_month(start)
    after_months = _next_month(end) if _next_month(end) - timedelta(days=1) == end else end
    after_months = after_months.replace(day=1)  # the first day not in a whole month
    if first_month >= after_months:
        return [("d", start, end)]
    pieces = [("m", first_month, after_months - timedelta(days=1))]
    if start < first_month:
        pieces.append(("d", start, first_month - timedelta(days=1)))
    if after_months <= end:
        pieces.append(("d", after_months, end))
    return pieces


NOTHING = (date.max, date.min)  # a range no day falls in

# Each statement is built once, its period and scope bound at each call: the shape of a
# period (whole months, edge days) is the same for every period.
_STATEMENTS: dict[str, Select] = {}


def _statement(name: str, build: Callable[[], Select]) -> Select:
    stmt = _STATEMENTS.get(name)
    if stmt is None:
        stmt = _STATEMENTS[name] = build()
    return stmt


def _in_period(split: str):
    """The rollup rows of a scope and ``split`` that make up a period (``_period_params``):
    its whole months from the month rows, up to two runs of edge days from the day rows."""

    def between(first: str, last: str):
        return R.period.between(bindparam(first, type_=Date), bindparam(last, type_=Date))

    return and_(
        R.scope == bindparam("scope"),
        R.scope_id == bindparam("scope_id"),
        R.split == split,
        or_(
            and_(R.grain == "m", between("m1", "m2")),
            and_(R.grain == "d", or_(between("d1", "d2"), between("d3", "d4"))),
        ),
    )


def _period_params(scope: Scope, start: date, end: date) -> dict:
    pieces = period_pieces(start, end)
    months = [(first, last) for grain, first, last in pieces if grain == "m"] or [NOTHING]
    days = [(first, last) for grain, first, last in pieces if grain == "d"] + [NOTHING] * 2
    return {
        "scope": scope.level,
        "scope_id": getattr(scope.obj, "id", 0),
        "m1": months[0][0],
        "m2": months[0][1],
        "d1": days[0][0],
        "d2": days[0][1],
        "d3": days[1][0],
        "d4": days[1][1],
    }


def _sums(scope: Scope, start: date, end: date, split: str = "") -> list:
    """``(kind, outcome, n, answers, satisfied)`` of the period; with ``split`` "agency" or
    "category", that id first."""

    def build() -> Select:
        group = (R.split_id,) if split else ()
        return (
            select(
                *group,
                R.kind,
                R.outcome,
                func.sum(R.n),
                func.sum(R.answers),
                func.sum(R.satisfied),
            )
            .where(_in_period(split))
            .group_by(*group, R.kind, R.outcome)
        )

    stmt = _statement(f"sums:{split}", build)
    return list(read(stmt, _period_params(scope, start, end)).all())


def case_figures(counts: dict) -> dict:
    """The figures from ``counts[(kind, outcome)] = n`` (and ("closed", "answers") etc.)."""

    get = counts.get  # each count read once (a page sums a dozen of these)
    r_on_time, r_late, r_waiting, r_unrecorded = [
        get(("response", o), 0) for o in ("on_time", "late", "waiting", "unrecorded")
    ]
    d_on_time, d_late, d_overdue, d_waiting, d_unrecorded = [
        get(("due", o), 0) for o in ("on_time", "late", "overdue", "waiting", "unrecorded")
    ]
    reworked = get(("closed", "reworked"), 0)
    due_decided = d_on_time + d_late + d_overdue
    closed = get(("closed", "clean"), 0) + reworked
    return {
        "dispatched": r_on_time + r_late + r_waiting + r_unrecorded,
        "response": Rate(
            r_on_time, r_on_time + r_late, {"waiting": r_waiting, "unrecorded": r_unrecorded}
        ),
        "on_time": Rate(d_on_time, due_decided, {"waiting": d_waiting, "unrecorded": d_unrecorded}),
        "close": Rate(
            d_on_time + d_late, due_decided, {"waiting": d_waiting, "unrecorded": d_unrecorded}
        ),
        "rework": Rate(reworked, closed),
        "satisfaction": Rate(get("satisfied", 0), get("answers", 0)),
        "closed": closed,
        "opened": get(("opened", "filed"), 0),
    }


def percentile(histogram: dict[int, int], q: float) -> int | None:
    """The nearest-rank ``q`` percentile of a days-to-close histogram (bucket → count)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, -(-int(q * total * 1000) // 1000))  # ceil(q * total), without float drift
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return OVER_A_YEAR


def overdue_now(scope: Scope, now: datetime) -> int:
    """Open cases whose current stage is past its due time, counted live over the
    ``(state, stage_due_at)`` index (a "now" figure has no day to be summed under)."""
    stmt = _statement(
        f"overdue_now:{scope.level}",
        lambda: scope_filter(
            select(func.count()).where(overdue_clause(bindparam("now", type_=UTCDateTime()))),
            scope,
            community_col=Case.community_id,
            agency_col=Case.agency_id,
            scope_id=SCOPE_ID,
        ),
    )
    return read(stmt, {"now": now, **_scope_params(scope)}).scalar() or 0


def summary(scope: Scope, start: date, end: date, now: datetime) -> dict:
    counts: dict = defaultdict(int)
    for kind, outcome, n, answers, satisfied in _sums(scope, start, end):
        counts[(kind, outcome)] += n or 0
        if kind == "closed":
            counts["answers"] += answers or 0
            counts["satisfied"] += satisfied or 0
    figures = case_figures(counts)
    histogram: dict[int, int] = defaultdict(int)
    stmt = _statement(
        "histogram",
        lambda: (
            select(R.bucket, func.sum(R.n))
            .where(_in_period(""), R.kind == "closed")
            .group_by(R.bucket)
        ),
    )
    for bucket, n in read(stmt, _period_params(scope, start, end)).all():
        histogram[bucket] += n or 0
    figures["median_days"] = percentile(histogram, 0.5)
    figures["p90_days"] = percentile(histogram, 0.9)
    figures["overdue_now"] = overdue_now(scope, now)
    submitted = {
        o: counts.get(("submitted", o), 0) for o in ("submitted", "opened", "qualified", "closed")
    }
    total = sum(submitted.values())
    opened = total - submitted["submitted"]
    qualified = submitted["qualified"] + submitted["closed"]
    figures["funnel"] = [
        ("submitted", total, None),
        ("opened", opened, Rate(opened, total)),
        ("qualified", qualified, Rate(qualified, opened)),
        ("closed", submitted["closed"], Rate(submitted["closed"], qualified)),
    ]
    return figures


def monthly(scope: Scope, start: date, end: date) -> list[dict]:
    """Per month: cases opened and closed, and the on-time rate of the cases due."""
    months: dict[str, dict] = {}
    day = start.replace(day=1)
    while day <= end:
        months[day.strftime("%Y-%m")] = defaultdict(int)
        day = _next_month(day)
    stmt = _statement(
        "monthly",
        lambda: (
            select(R.period, R.kind, R.outcome, func.sum(R.n))
            .where(_in_period(""), R.kind.in_(("opened", "closed", "due")))
            .group_by(R.period, R.kind, R.outcome)
        ),
    )
    for period, kind, outcome, n in read(stmt, _period_params(scope, start, end)).all():
        months[period.strftime("%Y-%m")][(kind, outcome)] += n or 0
    rows = []
    for month, counts in months.items():
        f = case_figures(counts)
        rows.append(
            {"month": month, "opened": f["opened"], "closed": f["closed"], "on_time": f["on_time"]}
        )
    return rows


def by_category(scope: Scope, start: date, end: date) -> list[tuple[int, int, str, str | None]]:
    """The cases opened in the period per category: ``(id, n, name_zh, name_en)``."""
    stmt = _statement(
        "by_category",
        lambda: (
            select(R.split_id, func.sum(R.n), Category.name_zh, Category.name_en)
            .join(Category, Category.id == R.split_id)
            .where(_in_period("category"), R.kind == "opened")
            .group_by(R.split_id, Category.name_zh, Category.name_en)
        ),
    )
    return [
        (cid, n or 0, zh, en)
        for cid, n, zh, en in read(stmt, _period_params(scope, start, end)).all()
    ]


def by_agency(scope: Scope, start: date, end: date) -> dict[int, dict]:
    """The case figures of each agency with any case in the period (the league table)."""
    per: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for agency_id, kind, outcome, n, answers, satisfied in _sums(scope, start, end, "agency"):
        if not agency_id:
            continue
        counts = per[agency_id]
        counts[(kind, outcome)] += n or 0
        if kind == "closed":
            counts["answers"] += answers or 0
            counts["satisfied"] += satisfied or 0
    return {aid: case_figures(counts) for aid, counts in per.items()}


# --- answers to agenda items -----------------------------------------------------------------
#
# An agency invited to answer an agenda item in writing by a due time: answered by then (on
# time), after it (late), or not at all once it passed (missed); one not yet due is waiting.
# The cohort is the invitations due in the period, of meetings that were published (a draft's
# invitations were never sent; a cancelled meeting's need no answer). Counted live: agenda
# invitations are few (a handful per meeting), over the (state, due_at) index.


def _period_instants(start: date, end: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(city_timezone_name())
    first = datetime.combine(start, time(0), tz)
    after = datetime.combine(end + timedelta(days=1), time(0), tz)
    return first, after


def _agenda_answers(scope: Scope) -> Select:
    """Invitations due within ``[first, after)`` by agency and outcome, as of ``now``."""
    answered = Invitation.answered_at.is_not(None)
    now = bindparam("now", type_=UTCDateTime())
    outcome = case(
        (and_(answered, Invitation.answered_at <= Invitation.due_at), "on_time"),
        (answered, "late"),
        (Invitation.due_at < now, "missed"),
        else_="waiting",
    )
    stmt = (
        select(Invitation.agency_id, outcome, func.count())
        .join(AgendaItem, AgendaItem.id == Invitation.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            Invitation.due_at >= bindparam("first", type_=UTCDateTime()),
            Invitation.due_at < bindparam("after", type_=UTCDateTime()),
            Meeting.state.not_in((MeetingState.draft, MeetingState.cancelled)),
        )
        .group_by(Invitation.agency_id, outcome)
    )
    return scope_filter(
        stmt,
        scope,
        community_col=Meeting.community_id,
        agency_col=Invitation.agency_id,
        scope_id=SCOPE_ID,
    )


def agenda_answers(scope: Scope, start: date, end: date, now: datetime) -> dict:
    """``{agency_id: Rate}`` of answers given on time, and ``None``'s for the whole scope;
    the rate's extra tells how many are still waiting."""
    first, after = _period_instants(start, end)
    stmt = _statement(f"agenda_answers:{scope.level}", lambda: _agenda_answers(scope))
    params = {"first": first, "after": after, "now": now, **_scope_params(scope)}
    counts: dict = defaultdict(lambda: defaultdict(int))
    for agency_id, kind, n in read(stmt, params).all():
        counts[agency_id][kind] += n
        counts[None][kind] += n

    def rate(c) -> Rate:
        return Rate(c["on_time"], c["on_time"] + c["late"] + c["missed"], {"waiting": c["waiting"]})

    result = {aid: rate(c) for aid, c in counts.items()}
    result.setdefault(None, Rate(0, 0, {"waiting": 0}))
    return result
