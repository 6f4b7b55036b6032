"""Meeting rules: the lifecycle, the agenda, invitations and written answers, registrations,
questions, minutes and decisions, and what pages read.

The rules live in the modules of this package, one per use case; this module re-exports
their public names, so ``from portal.meetings import services`` keeps working."""

from __future__ import annotations

from portal.meetings.services._common import (
    MeetingError,
    can_run,
    can_see,
    is_upcoming,
    item_title,
    started,
)
from portal.meetings.services.agenda import (
    AGENDA_STATUSES,
    add_item,
    move_item,
    remove_item,
    reorder,
)
from portal.meetings.services.invitations import (
    CommitmentIn,
    agency_invitations,
    can_answer,
    default_due,
    invite,
    is_missed,
    missed_by_agency,
    missed_condition,
    open_invitations,
    remind_due_soon,
    save_answer,
)
from portal.meetings.services.lifecycle import (
    Details,
    archive,
    cancel,
    create_meeting,
    publish,
    update_meeting,
)
from portal.meetings.services.minutes import (
    DECISION_LABELS,
    DecisionIn,
    decision_label,
    publish_minutes,
)
from portal.meetings.services.moderation import install
from portal.meetings.services.questions import (
    ask,
    can_ask,
    can_read_question,
    mark_answered,
)
from portal.meetings.services.reading import (
    ItemView,
    community_meetings,
    invitation_status,
    item_views,
    meetings_between,
    meetings_for_subject,
    missing_answers,
    state_key,
    state_label,
    to_prepare,
)
from portal.meetings.services.registrations import (
    cancel_registration,
    counts,
    register,
    registration_of,
)

__all__ = [
    "AGENDA_STATUSES",
    "DECISION_LABELS",
    "CommitmentIn",
    "DecisionIn",
    "Details",
    "ItemView",
    "MeetingError",
    "add_item",
    "agency_invitations",
    "archive",
    "ask",
    "can_answer",
    "can_ask",
    "can_read_question",
    "can_run",
    "can_see",
    "cancel",
    "cancel_registration",
    "community_meetings",
    "counts",
    "create_meeting",
    "decision_label",
    "default_due",
    "install",
    "invitation_status",
    "invite",
    "is_missed",
    "is_upcoming",
    "item_title",
    "item_views",
    "mark_answered",
    "meetings_between",
    "meetings_for_subject",
    "missed_by_agency",
    "missed_condition",
    "missing_answers",
    "move_item",
    "open_invitations",
    "publish",
    "publish_minutes",
    "register",
    "registration_of",
    "remind_due_soon",
    "remove_item",
    "reorder",
    "save_answer",
    "started",
    "state_key",
    "state_label",
    "to_prepare",
    "update_meeting",
]
