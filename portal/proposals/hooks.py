"""What the features built on proposals say about a proposal, handed in by the app factory
(``portal.create_app``): proposals never import the features above them.

- ``case_of(p)``: the grid case a qualified proposal became, or None (``cases``);
- ``cases_of(proposals)``: the cases of a page of proposals by proposal id, in one query, asked
  only when one of them reached its threshold (``cases``);
- ``with_cases(stmt)`` and ``cases_in(rows, n)``: a page's statement of proposals extended
  with each one's case, outer-joined, and its rows split into their own columns and the cases
  (``cases``), so that a page reads its cases in its own statement;
- ``case_json(case, count)``: the API's ``case`` object of a proposal (``cases``);
- ``page_sections``: functions of the proposal giving template variables for its page
  (``deliberation``'s thread), kept per app in ``app.extensions``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Select

_case_of: Callable[[Any], Any] | None = None
_cases_of: Callable[[list[int]], dict] | None = None
_case_json: Callable[[Any, bool], dict] | None = None
_with_cases: Callable[[Select], Select] | None = None
_case_from: Callable[[tuple], Any] | None = None


def set_case_lookup(
    lookup: Callable[[Any], Any],
    batch: Callable[[list[int]], dict],
    describe: Callable[[Any, bool], dict],
) -> None:
    global _case_of, _cases_of, _case_json
    _case_of, _cases_of, _case_json = lookup, batch, describe


def set_case_columns(join: Callable[[Select], Select], make: Callable[[tuple], Any]) -> None:
    """``join(stmt)`` adds to a SELECT of proposals the columns of each one's case after its
    own (NULL first for a proposal that is no case); ``make`` builds the case of them."""
    global _with_cases, _case_from
    _with_cases, _case_from = join, make


def with_cases(stmt: Select) -> Select:
    """``stmt``, a SELECT of proposals, with the columns of each one's case after its own
    (unchanged before the cases feature is installed). Built once with the statement: the
    feature is installed when the app is created, before any page is read."""
    return _with_cases(stmt) if _with_cases is not None else stmt


def cases_in(rows, n: int) -> tuple[list[tuple], dict]:
    """Rows of a ``with_cases`` statement whose own columns are the first ``n``, as those
    columns and {proposal id: case} of the proposals that became one."""
    heads: list[tuple] = []
    found: dict = {}
    for row in rows:
        heads.append(row[:n])
        if _case_from is not None and len(row) > n and row[n] is not None:
            case = _case_from(row[n:])
            found[case.proposal_id] = case
    return heads, found


def case_of(p) -> Any:
    """The proposal's case (None before the cases feature is installed)."""
    return _case_of(p) if _case_of is not None else None


def cases_of(proposals) -> dict:
    """{proposal id: case} for those of ``proposals`` that became a case. Only proposals that
    reached their threshold can have one: a page without any costs no query."""
    ids = [p.id for p in proposals if p.status.value == "qualified"]
    if not ids or _cases_of is None:
        return {}
    return _cases_of(ids)


def case_json(case, count: bool = False) -> dict | None:
    """The API's ``case`` object of a proposal (None without a case); ``count`` the working
    days left of its deadline (one calendar query: single proposals only)."""
    if case is None or _case_json is None:
        return None
    return _case_json(case, count)


def add_page_section(app: Flask, section: Callable[[Any], dict]) -> None:
    app.extensions.setdefault("proposal_page_sections", []).append(section)


def page_sections(p) -> dict:
    found: dict = {}
    for section in current_app.extensions.get("proposal_page_sections", ()):
        found.update(section(p))
    return found
