"""Keyset pagination for API lists: ``{"items": [...], "next": url|null}``, opaque cursors."""

from __future__ import annotations

from typing import Any, cast

from flask import request, url_for

from portal.core.api import ApiError
from portal.core.input import BadCursor, Key, decode_cursor
from portal.core.input import encode_cursor as encode_cursor
from portal.core.urls import query_args

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def limit_arg() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            "invalid_parameter",
            "limit must be a whole number.",
            status=400,
            fields={"limit": "Must be a whole number from 1 to 100."},
        ) from None
    if not 1 <= value <= MAX_LIMIT:
        raise ApiError(
            "invalid_parameter",
            "limit must be between 1 and 100.",
            status=400,
            fields={"limit": "Must be a whole number from 1 to 100."},
        )
    return value


def bad_cursor() -> ApiError:
    return ApiError(
        "invalid_cursor",
        "The cursor is not valid.",
        status=400,
        fields={"cursor": "Use the next link of a previous page."},
    )


def cursor_arg(*shape) -> list | None:
    """The values of the request's cursor, checked against ``shape`` (see ``decode_cursor``)."""
    try:
        return decode_cursor(request.args.get("cursor"), *(shape or (Key.id,)))
    except BadCursor:
        raise bad_cursor() from None


def page_of(stmt, column, cursor: str | None, limit: int, *, descending: bool = False):
    """One page of ``stmt`` after the opaque ``cursor``, keyset on the unique integer
    ``column`` (which the rows must carry, as an entity's attribute or a selected column):
    (rows, the next page's cursor or None). BadCursor for a cursor that is not one of ours.
    Rows are entities when the statement selects one, else tuples."""
    from portal.extensions import db

    after = decode_cursor(cursor, Key.id)
    if after is not None:
        stmt = stmt.where(column < after[0] if descending else column > after[0])
    stmt = stmt.order_by(column.desc() if descending else column.asc()).limit(limit + 1)
    result = db.session.execute(stmt).unique()
    # One column (an entity, or a single value): its values; else the rows. The result's keys
    # say it as the statement's ``column_descriptions`` would, for a fraction of the cost.
    rows = list(result.scalars().all() if len(result.keys()) == 1 else result.all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    value = getattr(last, column.key) if hasattr(last, column.key) else last._mapping[column]
    return rows, encode_cursor([value])


def keyset(stmt, column, *, descending: bool = False, extra: dict | None = None):
    """Apply cursor and limit on a unique integer column; returns (rows, next_url)."""
    limit = limit_arg()
    try:
        rows, cursor = page_of(
            stmt, column, request.args.get("cursor"), limit, descending=descending
        )
    except BadCursor:
        raise bad_cursor() from None
    next_url = None
    if cursor is not None:
        args: dict[str, Any] = query_args("cursor")
        args.update(extra or {})
        next_url = url_for(
            cast(str, request.endpoint),  # a view runs for a matched rule only
            **(request.view_args or {}),
            **args,
            cursor=cursor,
        )
    return rows, next_url
