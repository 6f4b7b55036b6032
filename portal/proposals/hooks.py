"""What the features built on proposals say about a proposal, handed in by the app factory
(``portal.create_app``): proposals never import the features above them.

- ``case_of(p)``: the grid case a qualified proposal became, or None (``cases``);
- ``page_sections``: functions of the proposal giving template variables for its page
  (``deliberation``'s thread), kept per app in ``app.extensions``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

_case_of: Callable[[Any], Any] | None = None


def set_case_lookup(lookup: Callable[[Any], Any]) -> None:
    global _case_of
    _case_of = lookup


def case_of(p) -> Any:
    """The proposal's case (None before the cases feature is installed)."""
    return _case_of(p) if _case_of is not None else None


def add_page_section(app: Flask, section: Callable[[Any], dict]) -> None:
    app.extensions.setdefault("proposal_page_sections", []).append(section)


def page_sections(p) -> dict:
    found: dict = {}
    for section in current_app.extensions.get("proposal_page_sections", ()):
        found.update(section(p))
    return found
