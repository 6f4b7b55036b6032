"""CSV and JSON as a stream of text chunks: the rows are written as they are read, a chunk at
a time, so neither the rows nor the file are ever whole in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from flask import current_app

from portal.core import clock
from portal.core.api import iso
from portal.opendata.exports import Column

CHUNK_ROWS = 500
# Excel reads a UTF-8 file as the system's code page (GBK on Chinese Windows) unless it starts
# with a byte-order mark; Python reads it with ``encoding="utf-8-sig"``.
BOM = "\ufeff"


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): people's own text may
# start so. Such text gets a leading apostrophe, which spreadsheets show as text and hide.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v) -> object:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def csv_chunks(columns: tuple[Column, ...], rows: Iterable[tuple]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    yield BOM + buf.getvalue()
    buf.seek(0)
    buf.truncate()
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(v) for v in row])
        if n % CHUNK_ROWS == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def licence() -> dict:
    cfg = current_app.config
    return {"id": cfg["OPEN_DATA_LICENSE"], "url": cfg["OPEN_DATA_LICENSE_URL"]}


def json_chunks(columns: tuple[Column, ...], rows: Iterable[tuple]) -> Iterator[str]:
    """``{"license": …, "generated_at": …, "columns": […], "items": [{…}, …]}``."""
    names = [c.name for c in columns]
    head = {"license": licence(), "generated_at": iso(clock.now()), "columns": names}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "items": ['
    parts: list[str] = []
    sep = ""
    for row in rows:
        parts.append(sep + json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False))
        sep = ",\n"
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "]}\n"
