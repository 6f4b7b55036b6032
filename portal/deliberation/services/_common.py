"""What every deliberation rule shares: the error, the notification types, the blocked check,
the target of a report or moderation action and its community, and the committee's members."""

from __future__ import annotations

from sqlalchemy import select

from portal.blocks.services import is_blocked
from portal.core.errors import DomainError
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.deliberation import targets
from portal.extensions import db
from portal.notifications.services import register_type
from portal.roles.models import Role, RoleGrant

for _name, _text in {
    "content_hidden": _l("Your %(kind)s was hidden by the committee: %(reason)s. You may appeal."),
    "content_restored": _l("Your %(kind)s is visible again."),
    "content_hidden_automatically": _l(
        "A %(kind)s in %(community)s was hidden automatically after reports. Please review it."
    ),
    "appeal_waiting": _l("An appeal against a moderation decision is waiting for you."),
    "appeal_decided": _l("Your appeal was decided: %(outcome)s."),
    "comment_reply": _l("Someone replied to your comment on “%(title)s”."),
    "proposal_comment": _l("New comment on your proposal “%(title)s”."),
    "blocked": _l("You may not take part in %(community)s until %(until)s: %(reason)s"),
}.items():
    register_type(_name, _text)


class DeliberationError(DomainError):
    """A deliberation rule (comments, reports, blocks) said no."""


# --- blocks ----------------------------------------------------------------------------------


def check_not_blocked(user, community_id: int) -> None:
    if is_blocked(user, community_id):
        raise DeliberationError(
            "blocked", _("You are blocked from taking part in this community."), status=403
        )


# --- what a report or a moderation action is about -----------------------------------------


def _target(target_type: str, target_id: int):
    kind = targets.get(target_type)
    if kind is None:
        raise DeliberationError(
            "invalid_target",
            _("Report something that can be reported."),
            status=400,
            field="target_type",
        )
    obj = db.session.get(kind.model, target_id)
    if obj is None:
        raise DeliberationError("not_found", _("There is nothing to report here."), status=404)
    return obj


def _community_id(obj) -> int:
    return targets.of(obj).community_id(obj)


def _kind(obj) -> dict:
    return targets.of(obj).label()


def committee_members(community_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.committee, RoleGrant.community_id == community_id
            )
        )
    )
