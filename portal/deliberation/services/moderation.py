"""Moderation actions, reasoned, reversible and public: hide, restore, dismiss, lock, block."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from sqlalchemy import update

from portal.accounts.models import User
from portal.audit.services import record
from portal.blocks.models import Block
from portal.blocks.services import active_block
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.deliberation import targets
from portal.deliberation.models import (
    HIDE_REASONS,
    RESTORE_REASONS,
    Comment,
    ModerationAction,
    Report,
)
from portal.deliberation.services._common import DeliberationError, _community_id, _kind, _target
from portal.deliberation.services.queues import reason_label
from portal.deliberation.signals import comment_hidden
from portal.extensions import db
from portal.notifications.services import notify
from portal.places.models import Community
from portal.proposals import services as proposals
from portal.proposals.models import Proposal
from portal.residency.services import log_staff_views
from portal.roles import permissions

# --- moderation ------------------------------------------------------------------------------


def _log(
    community_id: int,
    action: str,
    *,
    actor,
    role: str,
    target_type: str,
    target_id: int,
    reason_code=None,
    note=None,
    automatic=False,
    subject_user_id=None,
    until=None,
) -> ModerationAction:
    entry = ModerationAction(
        community_id=community_id,
        action=action,
        automatic=automatic,
        reason_code=reason_code,
        note=note,
        actor_id=getattr(actor, "id", None),
        actor_role=role,
        target_type=target_type,
        target_id=target_id,
        subject_user_id=subject_user_id,
        until=until,
    )
    db.session.add(entry)
    db.session.flush()
    record(
        actor,
        f"moderation.{action}",
        ("moderation_actions", entry.id),
        target=f"{target_type}:{target_id}",
        automatic=automatic,
        reason=reason_code,
    )
    return entry


def log_rejection(actor, p: Proposal, reason_code: str, note: str | None) -> ModerationAction:
    """Proposal rejections belong in the public moderation log too."""
    return _log(
        p.community_id,
        "reject",
        actor=actor,
        role="committee",
        target_type="proposal",
        target_id=p.id,
        reason_code=reason_code,
        note=note,
        subject_user_id=p.author_id,
    )


def _log_rejected(p: Proposal, *, actor, reason_code: str, note: str | None, **_: object) -> None:
    log_rejection(actor, p, reason_code, note)


def install(app) -> None:
    """Subscribe deliberation to the domain events of proposals (``create_app`` calls this;
    importing this module connects nothing). Connecting twice is connecting once."""
    from portal.proposals.signals import proposal_rejected

    proposal_rejected.connect(_log_rejected)


def _author_id(obj) -> int:
    return obj.author_id


def _url(obj) -> str:
    return targets.of(obj).url(obj)


def _hide(
    obj, actor, community_id: int, *, reason_code, note, automatic: bool, role: str = "committee"
) -> ModerationAction:
    if not obj.hidden or obj.hidden_at is None:
        obj.hidden_at = clock.now()  # hidden since: kept when the committee confirms a hide
    obj.hidden, obj.hidden_auto, obj.hidden_reason = True, automatic, reason_code
    obj.hidden_note = note
    entry = _log(
        community_id,
        "hide",
        actor=actor,
        role="system" if automatic else role,
        target_type=targets.of(obj).name,
        target_id=obj.id,
        reason_code=reason_code,
        note=note,
        automatic=automatic,
        subject_user_id=_author_id(obj),
    )
    notify(
        [_author_id(obj)],
        "content_hidden",
        entry,
        url=url_for("deliberation.appeals_page"),  # where the author can appeal
        params={"kind": _kind(obj), "reason": reason_label(reason_code)},
    )
    if isinstance(obj, Comment):
        comment_hidden.send(obj, actor=actor, reason_code=reason_code, automatic=automatic)
    return entry


def _restore(obj, actor, community_id: int, reason_code: str, note, role: str = "committee"):
    if isinstance(obj, Proposal):
        proposals.resume_window(obj)  # supports were refused while it was hidden
    obj.hidden, obj.hidden_auto, obj.hidden_reason, obj.hidden_note = False, False, None, None
    obj.hidden_at = None
    entry = _log(
        community_id,
        "restore",
        actor=actor,
        role=role,
        target_type=targets.of(obj).name,
        target_id=obj.id,
        reason_code=reason_code,
        note=note,
        subject_user_id=_author_id(obj),
    )
    _resolve_reports(obj)
    notify([_author_id(obj)], "content_restored", entry, url=_url(obj), params={"kind": _kind(obj)})
    return entry


def _resolve_reports(obj) -> None:
    kind = targets.of(obj).name
    db.session.execute(
        update(Report)
        .where(Report.target_type == kind, Report.target_id == obj.id, Report.resolved_at.is_(None))
        .values(resolved_at=clock.now())
    )


def can_moderate(user, community_id: int) -> bool:
    return community_id in permissions.committee_community_ids(user)


def moderate(
    user: User,
    action: str,
    target_type: str,
    target_id: int,
    *,
    reason_code: str | None = None,
    note: str | None = None,
    until: datetime | None = None,
) -> ModerationAction:
    note = (note or "").strip() or None
    obj = _target(target_type, target_id)
    community_id = _community_id(obj)
    if not can_moderate(user, community_id):
        raise DeliberationError("forbidden", _("You moderate only your own community."), status=403)
    if action in ("block", "unblock"):
        # From a proposal or comment in the queue: its author, in its community.
        return block_user(
            user,
            db.session.get_one(Community, community_id),
            obj.author,
            action=action,
            note=note,
            until=until,
        )
    if action == "hide":
        if reason_code not in HIDE_REASONS:
            raise DeliberationError(
                "reason_required", _("Choose a reason."), status=400, field="reason_code"
            )
        if obj.hidden and not obj.hidden_auto:
            raise DeliberationError("already_hidden", _("This is already hidden."))
        _resolve_reports(obj)
        return _hide(obj, user, community_id, reason_code=reason_code, note=note, automatic=False)
    if action == "restore":
        if reason_code not in RESTORE_REASONS:
            raise DeliberationError(
                "reason_required", _("Choose a reason."), status=400, field="reason_code"
            )
        if not obj.hidden:
            raise DeliberationError("not_hidden", _("This is not hidden."))
        return _restore(obj, user, community_id, reason_code, note)
    if action == "dismiss":
        if reason_code not in RESTORE_REASONS:
            raise DeliberationError(
                "reason_required", _("Choose a reason."), status=400, field="reason_code"
            )
        _resolve_reports(obj)
        if obj.hidden and obj.hidden_auto:
            return _restore(obj, user, community_id, reason_code, note)
        return _log(
            community_id,
            "dismiss",
            actor=user,
            role="committee",
            target_type=target_type,
            target_id=obj.id,
            reason_code=reason_code,
            note=note,
            subject_user_id=obj.author_id,
        )
    if action in ("lock", "unlock"):
        if not isinstance(obj, Proposal):
            raise DeliberationError(
                "invalid_target",
                _("Lock a proposal's discussion."),
                status=400,
                field="target_type",
            )
        if obj.locked == (action == "lock"):
            raise DeliberationError(f"already_{action}ed", _("Nothing to change."))
        if action == "lock" and not note:
            raise DeliberationError(
                "note_required", _("Say why the discussion is locked."), status=400, field="note"
            )
        obj.locked, obj.lock_reason = action == "lock", note if action == "lock" else None
        return _log(
            community_id,
            action,
            actor=user,
            role="committee",
            target_type="proposal",
            target_id=obj.id,
            note=note,
        )
    raise DeliberationError("invalid_action", _("Unknown action."), status=400, field="action")


def block_user(
    user: User,
    community: Community,
    target: User,
    *,
    action: str = "block",
    note: str | None = None,
    until: datetime | None = None,
) -> ModerationAction:
    if not can_moderate(user, community.id):
        raise DeliberationError("forbidden", _("You moderate only your own community."), status=403)
    current = active_block(target, community.id)
    if action == "block":
        if not note:
            raise DeliberationError(
                "note_required", _("Give the reason for the block."), status=400, field="note"
            )
        if until is not None and until <= clock.now():
            raise DeliberationError(
                "invalid_until", _("Choose a date in the future."), status=400, field="until"
            )
        if current is not None:
            raise DeliberationError("already_blocked", _("This participant is already blocked."))
        log_staff_views(user, community, [target.id], "blocks")
        db.session.add(
            Block(
                community_id=community.id,
                user_id=target.id,
                until=until,
                reason=note,
                created_by_id=user.id,
            )
        )
        entry = _log(
            community.id,
            "block",
            actor=user,
            role="committee",
            target_type="user",
            target_id=target.id,
            note=note,
            until=until,
            subject_user_id=target.id,
        )
        notify(
            [target.id],
            "blocked",
            entry,
            url=url_for("places.community", code=community.code),
            params={
                "community": {"zh_Hans": community.name_zh, "en": community.name_en},
                "until": until.date().isoformat()
                if until
                else {"zh_Hans": "另行通知", "en": "further notice"},
                "reason": note,
            },
        )
        return entry
    if current is None:
        raise DeliberationError("not_blocked", _("This participant is not blocked."))
    current.lifted_at = clock.now()
    log_staff_views(user, community, [target.id], "blocks")
    return _log(
        community.id,
        "unblock",
        actor=user,
        role="committee",
        target_type="user",
        target_id=target.id,
        note=note,
        subject_user_id=target.id,
    )
