"""The one source of "now". Tests freeze it with ``freeze(at)``; code never calls datetime.now."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def frozen() -> datetime | None:
    """The time the clock is frozen at, or None when it runs (to put it back after a change)."""
    return _frozen


def freeze(at: datetime | None) -> None:
    """Freeze the clock at an aware datetime, or unfreeze with None."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None
