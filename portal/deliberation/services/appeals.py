"""Appeals against a hide or a block, decided by someone other than who made the decision."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from portal.accounts.models import User
from portal.blocks.services import active_block
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.deliberation.models import Appeal, ModerationAction
from portal.deliberation.services._common import DeliberationError, _target, committee_members
from portal.deliberation.services.moderation import _log, _restore, can_moderate
from portal.extensions import db
from portal.notifications.services import notify
from portal.places.models import Community
from portal.roles import permissions
from portal.roles.models import Role, RoleGrant

# --- appeals ---------------------------------------------------------------------------------


def appeal(user: User, action: ModerationAction, note: str) -> Appeal:
    if action.subject_user_id != user.id or action.action not in ("hide", "block"):
        raise DeliberationError(
            "not_appealable",
            _("You can appeal only a decision about your own content or participation."),
            status=403,
        )
    note = (note or "").strip()
    if not note:
        raise DeliberationError(
            "note_required", _("Say why the decision should change."), status=400, field="note"
        )
    if db.session.scalar(select(Appeal.id).where(Appeal.action_id == action.id)) is not None:
        raise DeliberationError("already_appealed", _("This decision has already been appealed."))
    others = [
        uid
        for uid in committee_members(action.community_id)
        if uid != action.actor_id and uid != user.id
    ]
    role = "committee" if others else "supervisor"
    a = Appeal(action_id=action.id, appellant_id=user.id, note=note[:1000], decider_role=role)
    db.session.add(a)
    db.session.flush()
    deciders = others if others else supervisors(action.community_id)
    notify(deciders, "appeal_waiting", a, url=url_for("deliberation.appeals_page"))
    return a


def supervisors(community_id: int) -> list[int]:
    community = db.session.get_one(Community, community_id)
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.supervisor,
                RoleGrant.district_id == community.street.district_id,
            )
        )
    )


def can_decide_appeal(user, a: Appeal) -> bool:
    if not getattr(user, "is_authenticated", False) or user.id in (
        a.action.actor_id,
        a.appellant_id,
    ):
        return False
    if a.decider_role == "committee":
        return can_moderate(user, a.action.community_id)
    community = db.session.get_one(Community, a.action.community_id)
    return permissions.is_supervisor(user, community.street.district)


def decide_appeal(user: User, a: Appeal, decision: str, note: str) -> None:
    if not can_decide_appeal(user, a):
        raise DeliberationError(
            "forbidden", _("This appeal is for another person to decide."), status=403
        )
    if a.status != "pending":
        raise DeliberationError("already_decided", _("This appeal has already been decided."))
    note = (note or "").strip()
    if decision not in ("uphold", "reverse") or not note:
        raise DeliberationError(
            "invalid_decision",
            _("Choose uphold or reverse, with a note."),
            status=400,
            field="decision",
        )
    a.status = "upheld" if decision == "uphold" else "reversed"
    a.decided_by_id, a.decided_at, a.decision_note = user.id, clock.now(), note
    action = a.action
    role = "committee" if a.decider_role == "committee" else "supervisor"
    if decision == "reverse":
        if action.action == "hide":
            obj = _target(action.target_type, action.target_id)
            if obj.hidden:
                _restore(obj, user, action.community_id, "appeal-upheld", note, role=role)
        elif action.action == "block":
            block = active_block(db.session.get(User, action.target_id), action.community_id)
            if block is not None:
                block.lifted_at = clock.now()
    _log(
        action.community_id,
        f"appeal_{a.status}",
        actor=user,
        role=role,
        target_type=action.target_type,
        target_id=action.target_id,
        note=note,
        subject_user_id=action.subject_user_id,
    )
    notify(
        [a.appellant_id],
        "appeal_decided",
        a,
        url=url_for("deliberation.appeals_page"),
        params={
            "outcome": {
                "zh_Hans": "维持原决定" if decision == "uphold" else "已撤销原决定",
                "en": "decision upheld" if decision == "uphold" else "decision reversed",
            }
        },
    )
    db.session.flush()
