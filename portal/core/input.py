"""The one input-validation layer in front of the views.

Everything a request carries is checked for shape here before any of it reaches a query, so
hostile input is a 400 or a 404 with the usual error body, never a database error:

- ``<id:...>`` in routes: a whole number from 1 to 2**31 - 1, PostgreSQL's ``integer``; anything
  else in that place does not match the route (404).
- ``id_arg`` / ``int_arg`` for numbers in query strings, with the same bounds.
- ``decode_cursor`` for keyset cursors: the JSON inside must have the shape its list wrote.
- ``install`` adds a guard that answers 404 for a path and 400 for a query string holding NUL
  or lone surrogates (which PostgreSQL cannot store or compare).
- ``clean_text`` is the same test for one value (JSON bodies, form fields).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL integer
MIN_INT = -(2**31)
MAX_CURSOR_LENGTH = 512

# NUL (which PostgreSQL text cannot hold) and UTF-16 surrogates (which UTF-8 cannot encode).
BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> bool:
    """True when ``value`` can be stored and compared as text."""
    return BAD_CHARS.search(value) is None


def _at_most(limit: int) -> str:
    """A regular expression for the whole numbers 1..``limit`` without leading zeros."""
    digits = str(limit)
    parts = [rf"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        rest = len(digits) - i - 1
        low = "1" if i == 0 else "0"
        if i < len(digits) - 1 and int(d) > int(low):
            parts.append(rf"{digits[:i]}[{low}-{int(d) - 1}][0-9]{{{rest}}}")
        elif i == len(digits) - 1:
            parts.append(rf"{digits[:i]}[{low}-{d}]")
    return "(?:" + "|".join(parts) + ")"


class IdConverter(BaseConverter):
    """A database id in a URL: 1 to 2**31 - 1, written without leading zeros or a sign. A
    larger number does not match the route at all, so the answer is 404 whatever methods
    other routes of the same path allow."""

    regex = _at_most(MAX_ID)
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()  # the route does not match: 404
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def is_id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def int_arg(name: str, *, low: int = MIN_INT, high: int = MAX_ID) -> int | None:
    """A whole number in the query string, or None when it is absent or not one in bounds."""
    raw = request.args.get(name, "")
    if not raw or len(raw) > 11 or not re.fullmatch(r"-?[0-9]+", raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def as_id(value: Any) -> int | None:
    """``value`` (text from a form, say) as a database id, or None when it is not one."""
    text = str(value or "")
    if not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    number = int(text)
    return number if is_id(number) else None


def id_arg(name: str) -> int | None:
    return int_arg(name, low=1, high=MAX_ID)


# --- keyset cursors ---------------------------------------------------------------------------


class BadCursor(ValueError):
    pass


def _id(value: Any) -> int:
    if not is_id(value):
        raise BadCursor(value)
    return value


def _count(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise BadCursor(value)
    return value


def _instant(value: Any) -> datetime:
    """An aware ISO 8601 time (returned parsed)."""
    if not isinstance(value, str) or len(value) > 40:
        raise BadCursor(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadCursor(value) from None
    if parsed.tzinfo is None:
        raise BadCursor(value)
    return parsed


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise BadCursor(value)
        return value

    return check


class Key:
    """What one position of a cursor may hold."""

    id = staticmethod(_id)
    count = staticmethod(_count)
    instant = staticmethod(_instant)
    one_of = staticmethod(_one_of)


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str | None, *shape: Callable[[Any], Any]) -> list | None:
    """The values of an opaque cursor written by ``encode_cursor``, each checked (and parsed)
    by its position's function in ``shape``; None for no cursor; BadCursor for anything else."""
    if not raw:
        return None
    if len(raw) > MAX_CURSOR_LENGTH or not re.fullmatch(r"[A-Za-z0-9_-]+", raw):
        raise BadCursor(raw)
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError, RecursionError):
        raise BadCursor(raw) from None
    if not isinstance(data, list) or len(data) != len(shape):
        raise BadCursor(raw)
    return [check(value) for check, value in zip(shape, data, strict=True)]


# --- the request guard ------------------------------------------------------------------------


def _bad_request_text() -> str | None:
    """'path' or 'query' when that part of the request holds what text columns cannot."""
    if not clean_text(request.path):
        return "path"
    for key, values in request.args.lists():
        if not clean_text(key) or not all(clean_text(v) for v in values):
            return "query"
    return None


def install(app: Flask) -> None:
    """Register the ``id`` converter (before any blueprint) and the guard on every request."""
    app.url_map.converters["id"] = IdConverter

    @app.before_request
    def _guard_text():
        where = _bad_request_text()
        if where == "path":
            abort(404)
        if where == "query":
            abort(400)
