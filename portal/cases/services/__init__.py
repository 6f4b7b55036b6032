"""Case rules: routing, filing exactly once, the one transition table, overdue sweep,
supporters' feedback and the close/reopen rule.

The rules live in the modules of this package, one per use case; this module re-exports
their public names, so ``from portal.cases import services`` keeps working."""

from __future__ import annotations

from portal.cases.services._common import CaseError, record_event
from portal.cases.services.feedback import feedback_summary, give_feedback, has_answered
from portal.cases.services.filing import file_case, install
from portal.cases.services.labels import (
    action_label,
    button_label,
    close_reason_label,
    state_label,
    step_label,
)
from portal.cases.services.progress import (
    DEADLINE_KINDS,
    MAIN_STEPS,
    Deadline,
    Milestone,
    Step,
    cases_for_proposals,
    deadline,
    deadline_label,
    milestones,
    outcome,
    stage_text,
    steps,
    working_days_left,
)
from portal.cases.services.queries import (
    LIAISON_TABS,
    SUPERVISOR_TABS,
    case_for_proposal,
    in_district,
    is_overdue,
    liaison_cases,
    overdue_clause,
    photos,
    supervisor_cases,
    timeline,
    verification_cases,
)
from portal.cases.services.routing import delete_rule, route, set_rule
from portal.cases.services.sweeping import sweep
from portal.cases.services.workflow import (
    ACTIONS,
    CLOSE_REASONS,
    NOTE_REQUIRED,
    PRIMARY_ACTIONS,
    TRANSITIONS,
    Move,
    act,
    agency_in_scope,
    allowed_actions,
    reroute_agencies,
    role_for,
    split_actions,
)

__all__ = [
    "ACTIONS",
    "CLOSE_REASONS",
    "DEADLINE_KINDS",
    "LIAISON_TABS",
    "MAIN_STEPS",
    "NOTE_REQUIRED",
    "PRIMARY_ACTIONS",
    "SUPERVISOR_TABS",
    "TRANSITIONS",
    "CaseError",
    "Deadline",
    "Milestone",
    "Move",
    "Step",
    "act",
    "action_label",
    "agency_in_scope",
    "allowed_actions",
    "button_label",
    "case_for_proposal",
    "cases_for_proposals",
    "close_reason_label",
    "deadline",
    "deadline_label",
    "delete_rule",
    "feedback_summary",
    "file_case",
    "give_feedback",
    "has_answered",
    "in_district",
    "install",
    "is_overdue",
    "liaison_cases",
    "milestones",
    "outcome",
    "overdue_clause",
    "photos",
    "record_event",
    "reroute_agencies",
    "role_for",
    "route",
    "set_rule",
    "split_actions",
    "stage_text",
    "state_label",
    "step_label",
    "steps",
    "supervisor_cases",
    "sweep",
    "timeline",
    "verification_cases",
    "working_days_left",
]
