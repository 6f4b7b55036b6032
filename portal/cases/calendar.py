"""Working days in the city's time zone: Monday to Friday, minus public holidays, plus make-up
working days (调休), both kept in ``calendar_days``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, select

from portal.cases.models import CalendarDay
from portal.core.database import read
from portal.extensions import db


@cache
def _exceptions() -> Select:
    # Built once, the days bound; on the table's columns (a case's page asks on every view).
    t = cast(Table, CalendarDay.__table__)
    return select(t.c.day, t.c.is_workday).where(
        t.c.day >= bindparam("start", type_=t.c.day.type),
        t.c.day <= bindparam("end", type_=t.c.day.type),
    )


def exceptions_between(start: date, end: date) -> dict[date, bool]:
    """The calendar's exceptions from ``start`` to ``end`` (local days), in one query."""
    return dict(read(_exceptions(), {"start": start, "end": end}).all())


def is_workday(day: date, exceptions: dict[date, bool] | None = None) -> bool:
    exceptions = exceptions_between(day, day) if exceptions is None else exceptions
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_working_days(start: datetime, days: int, tz_name: str) -> datetime:
    """The end of the ``days``-th working day after ``start``'s local day (23:59:59 local),
    as an aware UTC datetime. A case dispatched on Friday with 1 day is due Monday night."""
    tz = ZoneInfo(tz_name)
    local_day = start.astimezone(tz).date()
    exceptions = exceptions_between(local_day, local_day + timedelta(days=days * 3 + 30))
    day, counted = local_day, 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day, exceptions):
            counted += 1
    end = datetime.combine(day, time(23, 59, 59), tzinfo=tz)
    return end.astimezone(ZoneInfo("UTC"))


def working_days_after(start: date, end: date, exceptions: dict[date, bool]) -> int:
    """How many working days fall after ``start`` up to ``end`` included (0 when ``end`` is
    not after ``start``); ``exceptions`` must cover the days between."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_workday(day, exceptions):
            count += 1
    return count


def set_day(day: date, is_workday_: bool, note: str = "") -> None:
    row = db.session.get(CalendarDay, day)
    if row is None:
        db.session.add(CalendarDay(day=day, is_workday=is_workday_, note=note))
    else:
        row.is_workday, row.note = is_workday_, note
    db.session.flush()
