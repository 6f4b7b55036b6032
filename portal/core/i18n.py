"""Locale and time zone selection, and date formatting in the city's time zone."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import format_datetime, get_locale
from flask_login import current_user

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.local import LocalProxy

LOCALES = ("zh_Hans", "en")


def locale_from_header() -> str | None:
    for value, _quality in request.accept_languages:
        tag = value.lower().replace("_", "-")
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return None


def select_locale() -> str:
    if not request:
        return "zh_Hans"
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    cookie = request.cookies.get("lang")
    if cookie in LOCALES:
        return cookie
    return locale_from_header() or current_app.config["BABEL_DEFAULT_LOCALE"]


# The city's time zone, read on every page that shows a date: kept per process for a minute
# and dropped at once when this process writes a city (other processes catch up in the TTL).
_TZ_TTL = 60.0
_tz_cache: dict[int, tuple[float, str]] = {}
_city_timezone: Callable[[], str | None] | None = None


def clear_city_timezone(*_args) -> None:
    _tz_cache.clear()


def city_timezone_name() -> str:
    """The city's time zone; one deployment serves one city (the first one configured)."""
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()  # typed as the app
    hit = _tz_cache.get(id(app))
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    tz = (_city_timezone() if _city_timezone else None) or current_app.config["DEFAULT_TIMEZONE"]
    _tz_cache[id(app)] = (time.monotonic() + _TZ_TTL, tz)
    return tz


def set_city_timezone_source(source: Callable[[], str | None]) -> None:
    """The query for the city's time zone belongs to places (``places.services``), which hands
    it in at start-up (core imports no higher layer); until then the configured default."""
    global _city_timezone
    _city_timezone = source


def select_timezone() -> str:
    return city_timezone_name()


def current_locale() -> str:
    loc = get_locale()
    return "en" if loc is not None and loc.language == "en" else "zh_Hans"


def local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.astimezone(ZoneInfo(city_timezone_name()))


def fmt_datetime(dt: datetime | None, fmt: str = "medium") -> str:
    if dt is None:
        return ""
    return format_datetime(dt, fmt)


def table_label(table: dict, key) -> str:
    """The translated label ``table`` (of lazy strings) holds for ``key``, or the key itself."""
    label = table.get(key)
    return str(label) if label is not None else ("" if key is None else str(key))
