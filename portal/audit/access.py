"""The log of staff views of residents' personal details ("who has seen my data").

Every page or API answer that shows staff a resident's name with their address note, their
number or their email calls ``log_views`` once, for every resident it lists: one bulk insert.
The resident sees each view by the viewer's role and organisation, the time and the purpose,
never the staff member's name (staff act for their office; the platform keeps ``viewer_id``
for its own accountability, in the audit log's manner)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert

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


def log_views(viewer, resident_ids: Iterable[int], office: Office, purpose: str) -> int:
    """Record that ``viewer`` (acting as ``office``) saw the details of each resident, now, in
    one statement. A person's own details are not logged. Returns the rows written."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown access purpose {purpose!r}")
    viewer_id = getattr(viewer, "id", viewer)
    ids = sorted({i for i in resident_ids if i is not None and i != viewer_id})
    if not ids:
        return 0
    now = clock.now()
    # Into the table, not through the ORM's bulk insert of entities: nothing is loaded back,
    # and the ORM's path cost a staff page three times the Python of the rows' own insert.
    db.session.execute(
        insert(cast(Table, AccessEntry.__table__)),
        [
            {
                "resident_id": rid,
                "viewer_id": viewer_id,
                "role": office.role,
                "scope_type": office.scope_type,
                "scope_code": office.scope_code,
                "purpose": purpose,
                "created_at": now,
            }
            for rid in ids
        ],
    )
    return len(ids)
