"""Labels of case states, steps, buttons and close reasons, translated when rendered."""

from __future__ import annotations

from portal.cases.models import CaseState
from portal.cases.services._common import C
from portal.core.i18n import lazy_gettext as _l
from portal.core.i18n import table_label

# --- labels ----------------------------------------------------------------------------------


# Built once: each label is a lazy string, translated when rendered (one gettext per use rather
# than one per entry of the table, which lists of cases called for every row).
_STATE_LABELS = {
    C.dispatched: _l("Dispatched, awaiting the agency"),
    C.accepted: _l("Accepted"),
    C.returned: _l("Returned by the agency, being re-routed"),
    C.in_progress: _l("In progress"),
    C.verifying: _l("Handled, being verified"),
    C.closed: _l("Closed"),
}

_ACTION_LABELS = {
    "file": _l("Filed"),
    "dispatch": _l("Dispatched"),
    "accept": _l("Accepted"),
    "return": _l("Returned"),
    "reroute": _l("Re-routed"),
    "plan": _l("Plan published"),
    "progress": _l("Progress"),
    "request_extension": _l("Extension requested"),
    "approve_extension": _l("Extension approved"),
    "deny_extension": _l("Extension denied"),
    "resolve": _l("Handled, with an official response"),
    "verify": _l("Checked on site"),
    "close": _l("Closed"),
    "reopen": _l("Reopened for rework"),
    # Steps the meetings feature writes: the case put on an agenda, the meeting's decision.
    "meeting_agenda": _l("On the agenda of a community meeting"),
    "meeting:agreed-action": _l("Meeting decision: agreed action"),
    "meeting:referred-to-agency": _l("Meeting decision: referred to the agency"),
    "meeting:needs-more-input": _l("Meeting decision: needs more input"),
    "meeting:no-action": _l("Meeting decision: no action"),
}

_BUTTON_LABELS = {
    "accept": _l("Accept the case"),
    "return": _l("Return the case"),
    "reroute": _l("Re-route to another agency"),
    "plan": _l("Publish the plan"),
    "progress": _l("Post progress"),
    "request_extension": _l("Request an extension"),
    "approve_extension": _l("Approve the extension"),
    "deny_extension": _l("Deny the extension"),
    "resolve": _l("Publish the official response"),
    "verify": _l("Record the site check"),
    "close": _l("Close the case"),
}

_CLOSE_REASON_LABELS = {
    "resolved": _l("Resolved and verified"),
    "duplicate": _l("Duplicate case"),
    "not-responsible": _l("Not a government responsibility"),
    "no-further-action": _l("No further action"),
}


def state_label(state: CaseState) -> str:
    return str(_STATE_LABELS[state])


def action_label(action: str) -> str:
    return table_label(_ACTION_LABELS, action)


def button_label(action: str) -> str:
    """What the button says (imperative), where ``action_label`` names the step done."""
    return table_label(_BUTTON_LABELS, action)


def step_label(action: str, locale: str) -> str:
    from portal.core.i18n import force_locale

    with force_locale(locale):
        return action_label(action)


def close_reason_label(code: str | None) -> str:
    return table_label(_CLOSE_REASON_LABELS, code)
