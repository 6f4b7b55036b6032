"""The append-only audit log of staff actions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


class AuditEntry(Model):
    """Who did what to which object. Details reference people by id only, never personal data.

    UPDATE and DELETE are refused by triggers on PostgreSQL and SQLite (see the migration).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="NO ACTION"), index=True
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)


class AccessEntry(Model):
    """One staff view of one resident's personal details (name, address note, number, email),
    listed to that resident under "who has seen my data". The viewer is told to the resident
    by role and organisation (``role``, ``scope``), never by name; ``viewer_id`` stays for the
    platform's own accountability. Rows older than ``ACCESS_LOG_DAYS`` are deleted by
    ``flask privacy anonymise``; a deleted account's rows go with it."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_resident", "resident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    viewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # committee, supervisor, admin, agency_liaison, grid_worker: the role the view was made in.
    role: Mapped[str] = mapped_column(String(24))
    # ("community", "110105001001"), ("district", "110105"), ("platform", "")...
    scope_type: Mapped[str] = mapped_column(String(16))
    scope_code: Mapped[str] = mapped_column(String(40), default="")
    # Why: residency_queue, residency_decision, role_grants, block, report...
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
