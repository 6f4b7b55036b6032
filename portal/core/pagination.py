"""Keyset pagination for API lists: ``{"items": [...], "next": url|null}``, opaque cursors."""

from __future__ import annotations

from typing import Any, cast

from flask import request, url_for

from portal.core.api import ApiError
from portal.core.input import BadCursor, Key, decode_cursor
from portal.core.input import encode_cursor as encode_cursor

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


def keyset(stmt, column, *, descending: bool = False, extra: dict | None = None):
    """Apply cursor and limit on a unique integer column; returns (rows, next_url)."""
    limit = limit_arg()
    cursor = cursor_arg(Key.id)
    if cursor is not None:
        stmt = stmt.where(column < cursor[0] if descending else column > cursor[0])
    stmt = stmt.order_by(column.desc() if descending else column.asc()).limit(limit + 1)
    from portal.extensions import db

    rows = list(db.session.execute(stmt).unique().scalars().all())
    next_url = None
    if len(rows) > limit:
        rows = rows[:limit]
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "cursor"}
        args.update(extra or {})
        next_url = url_for(
            cast(str, request.endpoint),  # a view runs for a matched rule only
            **(request.view_args or {}),
            **args,
            cursor=encode_cursor([getattr(rows[-1], column.key)]),
        )
    return rows, next_url
