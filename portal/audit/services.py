"""Writing the audit log. Services call ``record``; nothing else writes the table."""

from __future__ import annotations

from portal.audit.models import AuditEntry
from portal.extensions import db

# Personal data never enters the log: it refers to people by id only.
FORBIDDEN_KEYS = frozenset(
    {"email", "display_name", "name", "address", "address_note", "password", "phone"}
)


def record(actor, action: str, subject, **details) -> AuditEntry:
    bad = FORBIDDEN_KEYS.intersection(details)
    if bad:
        raise ValueError(f"audit details may not carry personal data: {sorted(bad)}")
    if isinstance(subject, tuple):  # ("users", 7) when only the id is at hand
        subject_type, subject_id = subject
    else:
        subject_type, subject_id = subject.__tablename__, subject.id
    entry = AuditEntry(
        actor_id=getattr(actor, "id", actor),
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=details,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
