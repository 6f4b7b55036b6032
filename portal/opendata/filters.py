"""The filters of an export: district, community (by code) and a range of days in the city's
time zone. Bad input is a 400 with the field and a message, never a 500."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.i18n import city_timezone_name
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.places.models import Community, District

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CODE = re.compile(r"[0-9]{6,12}")
KNOWN = ("district", "community", "from", "to")


class BadFilter(DomainError):
    """An export's filter is not one we can apply."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(code, message, status=400, field=field)


@dataclass(frozen=True)
class Filters:
    district_id: int | None = None
    community_id: int | None = None
    start: datetime | None = None  # UTC, inclusive
    end: datetime | None = None  # UTC, exclusive (the day after ``to`` began)


def _day(args: Mapping[str, str], name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
        if not 1970 <= day.year <= 2999:
            raise ValueError(raw)  # no record is older, and time zones overflow at the ends
        return day
    except ValueError:
        raise BadFilter(
            "bad_date", _("“%(name)s” must be a day written as YYYY-MM-DD.", name=name), name
        ) from None


def _unknown(name: str, code: str) -> str:
    if name == "district":
        return _("There is no district with the code “%(code)s”.", code=code)
    return _("There is no community with the code “%(code)s”.", code=code)


def _code(args: Mapping[str, str], name: str, model) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    found = (
        db.session.scalar(select(model.id).where(model.code == raw))
        if _CODE.fullmatch(raw)
        else None
    )
    if found is None:
        raise BadFilter(
            f"unknown_{name}",
            _unknown(name, raw[:20]),
            name,
        )
    return found


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(city_timezone_name())).astimezone(UTC)


def parse(args: Mapping[str, str]) -> Filters:
    """The filters in ``args`` (a query string), validated; BadFilter for the first bad one."""
    start, end = _day(args, "from"), _day(args, "to")
    if start and end and start > end:
        raise BadFilter("bad_range", _("“from” must not be after “to”."), "from")
    return Filters(
        district_id=_code(args, "district", District),
        community_id=_code(args, "community", Community),
        start=_start_of(start) if start else None,
        end=_start_of(end + timedelta(days=1)) if end else None,
    )
