"""The log of staff views of residents' personal details ("who has seen my data").

Every page or API answer that shows staff a resident's name with their address note, their
number or their email calls ``log_views`` once, for every resident it lists: one bulk insert.
The resident sees each view by the viewer's role and organisation, the time and the purpose,
never the staff member's name (staff act for their office; the platform keeps ``viewer_id``
for its own accountability, in the audit log's manner)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import Table, bindparam, insert, select

from portal.audit.models import AccessEntry
from portal.core import clock
from portal.extensions import db

# Why staff saw the details, as told to the resident (``privacy`` pages word them).
PURPOSES = frozenset({"residency_queue", "residency_decision", "reports", "blocks"})


@dataclass(frozen=True)
class Office:
    """In which capacity staff looked: the role and the organisation it is held for."""

    role: str  # committee, supervisor, admin, liaison, grid_worker
    scope_type: str  # community, district, agency, grid, platform
    scope_code: str = ""


@cache
def _insert_views():
    """One ``INSERT … SELECT`` over the residents' rows (the users ``resident_id`` refers to),
    built once: the viewer, office, purpose and time bound once, the residents as one list.
    Inserting a row of seven values per resident cost a staff page some 1,000 calls."""
    t = cast(Table, AccessEntry.__table__)
    resident = next(iter(t.c.resident_id.foreign_keys)).column
    names = ("viewer_id", "role", "scope_type", "scope_code", "purpose", "created_at")
    values = [bindparam(name, type_=t.c[name].type) for name in names]
    chosen = (
        select(resident, *values)
        .where(resident.in_(bindparam("ids", expanding=True)))
        .order_by(resident)
    )
    return insert(t).from_select(["resident_id", *names], chosen)


def log_views(viewer, resident_ids: Iterable[int], office: Office, purpose: str) -> int:
    """Record that ``viewer`` (acting as ``office``) saw the details of each resident, now, in
    one statement. A person's own details are not logged. Returns how many residents were
    given."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown access purpose {purpose!r}")
    viewer_id = getattr(viewer, "id", viewer)
    ids = sorted({i for i in resident_ids if i is not None and i != viewer_id})
    if not ids:
        return 0
    db.session.execute(
        _insert_views(),
        {
            "ids": ids,
            "viewer_id": viewer_id,
            "role": office.role,
            "scope_type": office.scope_type,
            "scope_code": office.scope_code,
            "purpose": purpose,
            "created_at": clock.now(),
        },
    )
    return len(ids)
