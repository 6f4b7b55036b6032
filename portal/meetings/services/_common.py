"""What every meeting rule shares: the error, the notification types, the clock of a meeting,
who may run it, and who is told about it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.core import clock
from portal.core.errors import DomainError
from portal.core.i18n import fmt_datetime
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.extensions import db
from portal.meetings.models import AgendaItem, Invitation, Meeting, MeetingState, Registration
from portal.notifications.services import register_type
from portal.proposals.models import Support
from portal.roles import permissions
from portal.roles.models import Role, RoleGrant

M = MeetingState

for _name, _text in {
    "meeting_published": _l("Meeting “%(title)s” is published: %(when)s."),
    "meeting_changed": _l("Meeting “%(title)s” changed: %(what)s."),
    "meeting_cancelled": _l("Meeting “%(title)s” is cancelled: %(reason)s"),
    "invitation_received": _l(
        "Your agency is asked to answer “%(item)s” in writing by %(due)s (meeting “%(title)s”)."
    ),
    "invitation_due_soon": _l("The written answer to “%(item)s” is due %(due)s."),
    "agenda_published": _l("“%(item)s” is on the agenda of the meeting “%(title)s” (%(when)s)."),
    "agenda_answered": _l("%(agency)s answered in writing on “%(item)s”."),
    "agenda_decided": _l("The meeting decided on “%(item)s”: %(decision)s."),
    "registration_promoted": _l("A place opened up: you are registered for “%(title)s”."),
}.items():
    register_type(_name, _text)


class MeetingError(DomainError):
    """A meeting rule said no."""


def invalid(field: str, message: str) -> MeetingError:
    """Bad input, shown at its field: the API's 400 ``validation_failed``."""
    return MeetingError("validation_failed", message, status=400, field=field)


def started(m: Meeting, now: datetime | None = None) -> bool:
    return (now or clock.now()) >= m.starts_at


def is_upcoming(m: Meeting) -> bool:
    return m.state == M.published and not started(m)


def can_run(user, m: Meeting) -> bool:
    """The committee of the meeting's community runs it."""
    return permissions.is_committee(user, m.community)


def can_see(user, m: Meeting) -> bool:
    """A draft is the committee's only; every other meeting is public."""
    return m.state != M.draft or can_run(user, m)


def check_runs(user, m: Meeting) -> None:
    if not can_run(user, m):
        raise MeetingError(
            "forbidden", _("Only the committee of this community runs its meetings."), status=403
        )


def check_changeable(m: Meeting) -> None:
    """Times, place and items change while the meeting is a draft or published and not started."""
    if m.state == M.cancelled:
        raise MeetingError("meeting_cancelled", _("This meeting is cancelled."))
    if m.state in (M.held, M.archived) or (m.state == M.published and started(m)):
        raise MeetingError(
            "meeting_started", _("This meeting has started; its agenda can no longer change.")
        )


def when_text(m: Meeting) -> str:
    """The start as the notifications tell it, in the city's time zone."""
    return fmt_datetime(m.starts_at, "short")


def item_title(item: AgendaItem) -> str:
    if item.kind == "proposal" and item.proposal is not None:
        return item.proposal.title
    if item.kind == "case" and item.case is not None:
        return f"{item.case.number} {item.case.proposal.title}"
    return item.topic or ""


def registrant_ids(m: Meeting) -> list[int]:
    return list(
        db.session.scalars(select(Registration.user_id).where(Registration.meeting_id == m.id))
    )


def liaison_ids(agency_ids) -> list[int]:
    ids = sorted(set(agency_ids))
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.liaison, RoleGrant.agency_id.in_(ids)
            )
        )
    )


def invited_liaison_ids(m: Meeting) -> list[int]:
    agencies = db.session.scalars(
        select(Invitation.agency_id)
        .join(AgendaItem, AgendaItem.id == Invitation.item_id)
        .where(AgendaItem.meeting_id == m.id)
    )
    return liaison_ids(agencies)


def proposal_people(proposal_id: int) -> list[int]:
    """The author and supporters of a proposal (told when it is on an agenda, answered,
    decided); who supported stays secret, only they receive the notification."""
    from portal.proposals.models import Proposal

    p = db.session.get(Proposal, proposal_id)
    supporters = db.session.scalars(
        select(Support.user_id).where(Support.proposal_id == proposal_id)
    )
    return sorted({*supporters, *([p.author_id] if p is not None else [])})


def item_proposal_id(item: AgendaItem) -> int | None:
    if item.kind == "proposal":
        return item.proposal_id
    if item.kind == "case" and item.case is not None:
        return item.case.proposal_id
    return None
