"""Locale and time zone selection, and date formatting in the city's time zone."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

import flask_babel
from babel.support import NullTranslations
from flask import current_app, g, request
from flask_babel import LazyString, get_locale, get_translations
from flask_login import current_user
from sqlalchemy import func, literal, select, union_all

if TYPE_CHECKING:
    pass

LOCALES = ("zh_Hans", "en")


def translations() -> NullTranslations:
    """Flask-Babel's translations for the current locale, looked up once per request instead
    of on each of the hundred or so strings a page translates: each lookup goes through
    ``get_locale`` and the domain's cache (a dozen calls through context-local proxies).
    ``force_locale`` (below; Flask-Babel's own is not used, ``tests/core/test_i18n.py``
    holds to it) drops the memo on the way in and out, so a forced language gets its own."""
    store = _request_store()
    if store is None:
        return get_translations()
    found: NullTranslations | None = store.get(_MEMO)
    if found is None:
        found = store[_MEMO] = get_translations()
    return found


_MEMO = "commons_translations"
_LOCALE_MEMO = "commons_locale"
_MEMOS = (_MEMO, _LOCALE_MEMO)


@contextmanager
def force_locale(locale: str):
    """Flask-Babel's ``force_locale``, with this module's per-request memos (the translations
    and ``current_locale``) dropped on entry and exit: the one way code here changes the
    language of part of a request (a mail or a notice in the recipient's language)."""
    store = _request_store()
    saved = {k: store.pop(k) for k in _MEMOS if k in store} if store is not None else {}
    try:
        with flask_babel.force_locale(locale):
            yield
    finally:
        if store is not None:
            for k in _MEMOS:
                store.pop(k, None)
            store.update(saved)


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext`` (formatted only when given variables), through
    ``translations``."""
    s = translations().ugettext(string)
    return s % variables if variables else s


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """Flask-Babel's ``lazy_gettext``, translated through ``gettext`` when shown."""
    return LazyString(gettext, string, **variables)


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


# The city's time zone, read on every page that shows a date: kept in the app's cache (Redis,
# shared by every worker) for a minute, and dropped when a city is written.
CITY_TIMEZONE_KEY = "city-timezone"
_city_timezone: Callable[[], str | None] | None = None


def _request_store() -> dict | None:
    try:
        return g._get_current_object().__dict__
    except RuntimeError:  # outside an app context
        return None


def clear_city_timezone(*_args) -> None:
    from portal.extensions import cache

    cache.delete(CITY_TIMEZONE_KEY)
    store = _request_store()
    if store is not None:
        store.pop("commons_city_timezone", None)


def city_timezone_name() -> str:
    """The city's time zone; one deployment serves one city (the first one configured). Read
    once per request (a page formats dozens of dates) from the app's cache or the database,
    unless a statement the request ran anyway brought it (``found_city_timezone``)."""
    from portal.extensions import cache

    store = _request_store()
    tz = store.get("commons_city_timezone") if store is not None else None
    if tz is None:
        tz = cache.get(CITY_TIMEZONE_KEY)
        if tz is None:
            tz = _city_timezone() if _city_timezone else None
            tz = tz or current_app.config["DEFAULT_TIMEZONE"]
            cache.set(CITY_TIMEZONE_KEY, tz)
        if store is not None:
            store["commons_city_timezone"] = tz
    return tz


def found_city_timezone(tz: str | None) -> None:
    """The city's time zone as a statement of this request read it from the database (the
    sign-in's, ``places.services.first_city_timezone``): kept for the rest of the request, so
    that its dates ask no more. None (no city yet) is the configured default, as above."""
    store = _request_store()
    if store is not None:
        store["commons_city_timezone"] = tz or current_app.config["DEFAULT_TIMEZONE"]


def set_city_timezone_source(source: Callable[[], str | None]) -> None:
    """The query for the city's time zone belongs to places (``places.services``), which hands
    it in at start-up (core imports no higher layer); until then the configured default."""
    global _city_timezone
    _city_timezone = source


def select_timezone() -> str:
    return city_timezone_name()


def current_locale() -> str:
    """The reader's language as the app names it ("zh_Hans" or "en"), asked of Flask-Babel
    once per request (and per ``force_locale``): every date a page shows needs it."""
    store = _request_store()
    found = store.get(_LOCALE_MEMO) if store is not None else None
    if found is None:
        loc = get_locale()
        found = "en" if loc is not None and loc.language == "en" else "zh_Hans"
        if store is not None:
            store[_LOCALE_MEMO] = found
    return found


def local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.astimezone(ZoneInfo(city_timezone_name()))


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip

# Dates as pages show them, to the minute, in the city's time zone. Written out rather than
# through Babel's CLDR patterns: a page shows dozens of times, and Babel's formatter costs
# 20–40 µs each (its own locale and time zone lookups, then the pattern field by field).
_FORMATS: dict[str, dict[str, Callable[[datetime], str]]] = {
    "zh_Hans": {
        "short": lambda d: f"{d.year}/{d.month}/{d.day} {d.hour:02d}:{d.minute:02d}",
        "medium": lambda d: f"{d.year}年{d.month}月{d.day}日 {d.hour:02d}:{d.minute:02d}",
        "date": lambda d: f"{d.year}年{d.month}月{d.day}日",
    },
    "en": {
        "short": lambda d: (
            f"{d.day} {_MONTHS[d.month - 1][:3]} {d.year}, {d.hour:02d}:{d.minute:02d}"
        ),
        "medium": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}, {d.hour:02d}:{d.minute:02d}",
        "date": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    },
}


def fmt_datetime(dt: datetime | None, fmt: str = "medium") -> str:
    """``dt`` in the city's time zone and the reader's language: "short", "medium" (to the
    minute) or "date"."""
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return _FORMATS[current_locale()][fmt](dt.astimezone(ZoneInfo(city_timezone_name())))


def localized(name_zh: str, name_en: str | None, locale: str) -> str:
    """A name kept in both languages (a place, a category, an agency) as ``locale`` reads it:
    the English one when asked for and given, else the Chinese."""
    return name_en if locale == "en" and name_en else name_zh


class CodeName(NamedTuple):
    """A coded thing kept with names in both languages, as a filter's option shows it."""

    code: str
    name: str


class OptionLists(NamedTuple):
    """The statement reading several tables' (id, code, name_zh, name_en) rows at once, each
    list in its own order; built once by its page (``option_lists``), read by ``name_rows``."""

    statement: Any
    size: int


def option_lists(*wanted: tuple) -> OptionLists:
    """One ``UNION ALL`` statement for the rows of each ``(model, order_by, where)``: a
    filter bar of three select boxes costs one round trip, not three. Build it once (it costs
    more to build than to run) and read it with ``name_rows`` or ``code_name_lists``."""
    parts = []
    for which, (model, order_by, where) in enumerate(wanted):
        part = select(
            literal(which).label("which"),
            model.id,
            model.code,
            model.name_zh,
            model.name_en,
            func.row_number().over(order_by=list(order_by)).label("n"),
        )
        parts.append(part if where is None else part.where(where))
    both = union_all(*parts)
    return OptionLists(
        both.order_by(both.selected_columns.which, both.selected_columns.n), len(wanted)
    )


def name_rows(lists: OptionLists) -> list[list[tuple]]:
    """(id, code, name_zh, name_en) of each of ``lists``' tables, in its order."""
    from portal.core.database import read

    found: list[list[tuple]] = [[] for _ in range(lists.size)]
    for which, *row, _n in read(lists.statement).all():
        found[which].append(tuple(row))
    return found


def code_names(rows: list[tuple]) -> list[CodeName]:
    """(code, name in the reader's language) of ``name_rows``' rows of one table."""
    locale = current_locale()
    return [CodeName(code, localized(zh, en, locale)) for _id, code, zh, en in rows]


def code_name_lists(lists: OptionLists) -> list[list[CodeName]]:
    """``code_names`` of each of ``lists``' tables, for a page's select boxes, from its one
    statement."""
    return [code_names(rows) for rows in name_rows(lists)]


def datetime_formatter(fmt: str = "medium") -> Callable[[datetime], str]:
    """``fmt_datetime`` for the many dates of one page (a thread's comments): the reader's
    language and the city's time zone looked up once. The dates must be time zone aware."""
    tz = ZoneInfo(city_timezone_name())
    formatter = _FORMATS[current_locale()][fmt]
    return lambda dt: formatter(dt.astimezone(tz))


def table_label(table: dict, key) -> str:
    """The translated label ``table`` (of lazy strings) holds for ``key``, or the key itself."""
    label = table.get(key)
    return str(label) if label is not None else ("" if key is None else str(key))
