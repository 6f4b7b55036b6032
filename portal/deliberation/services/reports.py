"""Reports, and the automatic hiding of what enough residents and staff reported."""

from __future__ import annotations

from flask import current_app, url_for
from sqlalchemy import and_, func, or_, select, update

from portal.accounts.models import User
from portal.core.i18n import gettext as _
from portal.deliberation import targets
from portal.deliberation.models import REPORT_REASONS, Report
from portal.deliberation.services._common import (
    DeliberationError,
    _community_id,
    _kind,
    _target,
    check_not_blocked,
    committee_members,
)
from portal.deliberation.services.moderation import _hide
from portal.extensions import db
from portal.notifications.services import notify
from portal.places.models import Community
from portal.roles.models import Role, RoleGrant

# --- reports ---------------------------------------------------------------------------------


def report(user: User, target_type: str, target_id: int, reason: str, note: str = "") -> Report:
    obj = _target(target_type, target_id)
    community_id = _community_id(obj)
    if not targets.of(obj).visible(user, obj):
        raise DeliberationError("not_found", _("There is nothing to report here."), status=404)
    check_not_blocked(user, community_id)
    if reason not in REPORT_REASONS:
        raise DeliberationError("invalid_reason", _("Choose a reason."), status=400, field="reason")
    note = (note or "").strip()
    if reason == "other" and not note:
        raise DeliberationError("note_required", _("Say what is wrong."), status=400, field="note")
    exists = db.session.scalar(
        select(Report.id).where(
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.reporter_id == user.id,
        )
    )
    if exists is not None:
        raise DeliberationError("already_reported", _("You have already reported this."))
    r = Report(
        community_id=community_id,
        target_type=target_type,
        target_id=target_id,
        reporter_id=user.id,
        reason=reason,
        note=note[:500],
    )
    db.session.add(r)
    model = type(obj)
    # Also the lock that puts concurrent reports of one target in a row, so that each counts
    # those committed before it.
    db.session.execute(
        update(model).where(model.id == obj.id).values(report_count=model.report_count + 1)
    )
    db.session.flush()
    db.session.refresh(obj)
    community = db.session.get_one(Community, community_id)
    threshold = current_app.config.get("AUTO_HIDE_REPORTS", 3)
    if not obj.hidden and counting_reports(target_type, obj.id, community) >= threshold:
        _hide(obj, None, community_id, reason_code=reason, note=None, automatic=True)
        notify(
            committee_members(community_id),
            "content_hidden_automatically",
            obj,
            url=url_for("deliberation.workspace", code=community.code),
            params={
                "kind": _kind(obj),
                "community": {"zh_Hans": community.name_zh, "en": community.name_en},
            },
        )
    return r


def counts_toward_hiding(community: Community):
    """Whose reports hide content automatically: the confirmed residents of its community, its
    committee, the supervisors of its district and admins. Anyone else's report waits in the
    moderation queue for the committee. An expression on ``Report.reporter_id``."""
    resident = (
        select(User.id)
        .where(User.id == Report.reporter_id, User.community_id == community.id)
        .exists()
    )
    staff = (
        select(RoleGrant.id)
        .where(
            RoleGrant.user_id == Report.reporter_id,
            or_(
                and_(RoleGrant.role == Role.committee, RoleGrant.community_id == community.id),
                and_(
                    RoleGrant.role == Role.supervisor,
                    RoleGrant.district_id == community.street.district_id,
                ),
                RoleGrant.role == Role.admin,
            ),
        )
        .exists()
    )
    return or_(resident, staff)


def counting_reports(target_type: str, target_id: int, community: Community) -> int:
    """Open reports of a target that count toward hiding it automatically."""
    return (
        db.session.scalar(
            select(func.count(Report.id)).where(
                Report.target_type == target_type,
                Report.target_id == target_id,
                Report.resolved_at.is_(None),
                counts_toward_hiding(community),
            )
        )
        or 0
    )
