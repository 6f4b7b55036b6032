"""Admins browse the audit log, newest first, filtered by action or subject."""

from __future__ import annotations

from flask import render_template, request

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
    return render_template("audit/log.html", page=page, action=action, subject=subject)
