"""Admins browse the audit log, newest first, filtered by action or subject."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit import bp
from portal.audit.models import AuditEntry
from portal.core.guards import admin_required
from portal.extensions import db


@bp.get("/admin/audit")
@admin_required
def log():
    stmt = db.select(AuditEntry).order_by(AuditEntry.id.desc())
    action = (request.args.get("action") or "").strip()
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    subject = (request.args.get("subject_type") or "").strip()
    if subject:
        stmt = stmt.where(AuditEntry.subject_type == subject)
    page = db.paginate(stmt, per_page=50, error_out=False)
    # Who acted, by the name they go by (public, as on their proposals and comments), and the
    # people a row is about: an id alone told the administrator nothing.
    ids = {e.actor_id for e in page.items if e.actor_id}
    ids |= {int(e.subject_id) for e in page.items if e.subject_type == "users" and _is_id(e)}
    names = (
        dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    return render_template("audit/log.html", page=page, action=action, subject=subject, names=names)


def _is_id(entry: AuditEntry) -> bool:
    return entry.subject_id.isdigit() and len(entry.subject_id) < 12
