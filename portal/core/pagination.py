"""Keyset pagination for API lists: ``{"items": [...], "next": url|null}``, opaque cursors."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from flask import request, url_for
from sqlalchemy import bindparam

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


@lru_cache(maxsize=128)
def _paged(stmt, column, descending: bool, after: bool):
    """``stmt`` ordered on ``column`` and limited to ``:page_limit`` rows, after
    ``:page_after`` when ``after``: built once per statement and shape when the caller's
    statement is itself built once (held here by the object, never by its ``id``)."""
    if after:
        key = bindparam("page_after", type_=column.type)
        stmt = stmt.where(column < key if descending else column > key)
    stmt = stmt.order_by(column.desc() if descending else column.asc())
    return stmt.limit(bindparam("page_limit"))


def page_of(
    stmt,
    column,
    cursor: str | None,
    limit: int,
    *,
    descending: bool = False,
    params: dict | None = None,
):
    """One page of ``stmt`` after the opaque ``cursor``, keyset on the unique integer
    ``column`` (which the rows must carry, as an entity's attribute or a selected column):
    (rows, the next page's cursor or None). BadCursor for a cursor that is not one of ours.
    Rows are entities when the statement selects one, else tuples. A statement built once
    (its values as bound parameters, given in ``params``) is paged by a statement built once
    too: building and keying a statement costs more than running it."""
    from portal.extensions import db

    after = decode_cursor(cursor, Key.id)
    values = dict(params or (), page_limit=limit + 1)
    if after is not None:
        values["page_after"] = after[0]
    result = db.session.execute(_paged(stmt, column, descending, after is not None), values)
    result = result.unique()
    # One column (an entity, or a single value): its values; else the rows. The result's keys
    # say it as the statement's ``column_descriptions`` would, for a fraction of the cost.
    rows = list(result.scalars().all() if len(result.keys()) == 1 else result.all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    value = getattr(last, column.key) if hasattr(last, column.key) else last._mapping[column]
    return rows, encode_cursor([value])


def keyset(
    stmt,
    column,
    *,
    descending: bool = False,
    extra: dict | None = None,
    params: dict | None = None,
):
    """Apply cursor and limit on a unique integer column; returns (rows, next_url). ``params``
    the values of a statement built once (``page_of``)."""
    limit = limit_arg()
    try:
        rows, cursor = page_of(
            stmt, column, request.args.get("cursor"), limit, descending=descending, params=params
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
