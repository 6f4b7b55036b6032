"""The case workflow: the one table of allowed moves, who may take which action, and the one
transition function ``act``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.services import record
from portal.cases.models import Case, CaseEvent, CasePhoto, CaseState
from portal.cases.services._common import C, CaseError, _due, _reopen, record_event
from portal.cases.services._telling import _tell
from portal.cases.services.labels import state_label
from portal.cases.signals import case_closed
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.roles import permissions
from portal.roles.models import Agency

CLOSE_REASONS = ("duplicate", "not-responsible", "no-further-action")
NOTE_REQUIRED = {"return", "reroute", "plan", "progress", "resolve", "verify", "close"}


@dataclass(frozen=True)
class Move:
    role: str  # liaison | supervisor | grid_worker
    to: CaseState | None  # None: the state stays


# (state, action) → who may do it and where it leads. The one table of allowed moves.
TRANSITIONS: dict[tuple[CaseState, str], Move] = {
    (C.dispatched, "accept"): Move("liaison", C.accepted),
    (C.dispatched, "return"): Move("liaison", C.returned),
    (C.returned, "reroute"): Move("supervisor", C.dispatched),
    (C.accepted, "plan"): Move("liaison", C.in_progress),
    (C.accepted, "progress"): Move("liaison", None),
    (C.in_progress, "progress"): Move("liaison", None),
    (C.accepted, "request_extension"): Move("liaison", None),
    (C.in_progress, "request_extension"): Move("liaison", None),
    (C.accepted, "approve_extension"): Move("supervisor", None),
    (C.in_progress, "approve_extension"): Move("supervisor", None),
    (C.accepted, "deny_extension"): Move("supervisor", None),
    (C.in_progress, "deny_extension"): Move("supervisor", None),
    (C.in_progress, "resolve"): Move("liaison", C.verifying),
    (C.verifying, "verify"): Move("grid_worker", None),  # a failed check reopens at once
}
for _state in (C.dispatched, C.accepted, C.returned, C.in_progress, C.verifying):
    TRANSITIONS[(_state, "close")] = Move("supervisor", C.closed)

ACTIONS = sorted({action for _s, action in TRANSITIONS})


# --- permissions -----------------------------------------------------------------------------


def role_for(user, case: Case, role: str) -> bool:
    if role == "liaison":
        return permissions.is_liaison(user, case.agency)
    if role == "supervisor":
        return permissions.is_supervisor(user, case.community.street.district)
    if role == "grid_worker":
        if case.grid is not None:
            return permissions.is_grid_worker(user, grid=case.grid)
        return permissions.is_grid_worker(user, community=case.community)
    return False


def agency_in_scope(user, case: Case, agency: Agency) -> bool:
    """A case is routed only within its own district, to an active agency, by a supervisor of
    that district."""
    district = case.community.street.district
    return (
        agency.active
        and agency.district_id == district.id
        and permissions.is_supervisor(user, agency.district)
    )


def reroute_agencies(case: Case) -> list[Agency]:
    """The agencies a returned case may go to: its district's active ones, other than the
    current one."""
    return list(
        db.session.scalars(
            select(Agency)
            .where(
                Agency.district_id == case.community.street.district_id,
                Agency.id != case.agency_id,
                Agency.active,
            )
            .order_by(Agency.code)
        )
    )


def allowed_actions(user, case: Case) -> list[str]:
    if not permissions.grants(user):
        return []  # every move is a role's, and most readers hold none: nothing to load
    return [
        action
        for (state, action), move in TRANSITIONS.items()
        if state == case.state
        and role_for(user, case, move.role)
        and _precondition(case, action) is None
    ]


# The step each stage is for: shown first, as the main button. Every other allowed action
# (returning a case, posting progress, asking for more time, closing it early) is rarer and
# waits under "Other actions". Both answers to an extension request are the decision itself.
PRIMARY_ACTIONS = frozenset(
    {"accept", "reroute", "plan", "resolve", "verify", "approve_extension", "deny_extension"}
)


def split_actions(actions: list[str]) -> tuple[list[str], list[str]]:
    """``actions`` (from ``allowed_actions``) as (the stage's main ones, the rarer ones)."""
    return (
        [a for a in actions if a in PRIMARY_ACTIONS],
        [a for a in actions if a not in PRIMARY_ACTIONS],
    )


def _precondition(case: Case, action: str) -> str | None:
    if action in ("approve_extension", "deny_extension") and case.extension != "requested":
        return _("No extension has been requested.")
    if action == "verify" and case.verify_passed is not None:
        return _("The site check of this round is already recorded.")
    if action == "request_extension" and case.extension == "requested":
        return _("An extension request is already waiting.")
    return None


# --- the one transition function -------------------------------------------------------------


def act(
    user: User,
    case: Case,
    action: str,
    *,
    note: str | None = None,
    expected_at: datetime | None = None,
    agency: Agency | None = None,
    passed: bool | None = None,
    reason_code: str | None = None,
    photos: list[bytes] | None = None,
) -> None:
    move = TRANSITIONS.get((case.state, action))
    if action not in ACTIONS:
        raise CaseError("invalid_action", _("Unknown action."), status=400, field="action")
    if move is None:
        raise CaseError(
            "invalid_transition",
            _(
                "This action is not possible while the case is %(state)s.",
                state=state_label(case.state),
            ),
        )
    if not role_for(user, case, move.role):
        raise CaseError(
            "forbidden", _("Your role does not allow this action on this case."), status=403
        )
    problem = _precondition(case, action)
    if problem:
        raise CaseError("invalid_transition", problem)
    note = (note or "").strip() or None
    if action in NOTE_REQUIRED and not note:
        raise CaseError(
            "note_required", _("A note is required for this action."), status=400, field="note"
        )
    now = clock.now()
    frm = case.state
    if move.to is not None:
        case.state = move.to
    case.updated_at = now
    public_step = True
    if action == "accept":
        case.accepted_at = now
        case.stage_due_at = case.handling_due_at
    elif action == "return":
        case.stage_due_at = None
    elif action == "reroute":
        if agency is None:
            raise CaseError(
                "unknown_agency", _("Choose an existing agency."), status=400, field="agency_code"
            )
        if agency.id == case.agency_id:
            raise CaseError(
                "same_agency",
                _("Choose another agency than the one that returned the case."),
                status=400,
                field="agency_code",
            )
        if not agency_in_scope(user, case, agency):
            raise CaseError(
                "agency_out_of_scope",
                _("Choose an active agency of the case's district."),
                field="agency_code",
            )
        case.agency_id, case.dispatched_at = agency.id, now
        case.handling_due_at = _due(now, case.category.handling_days)
        case.stage_due_at = _due(now, case.category.response_days)
        db.session.flush()
        db.session.refresh(case)
    elif action == "plan":
        # An approved extension's date (the handling limit since its approval).
        approved = case.extension_until if case.extension == "approved" else None
        limit = approved or case.handling_due_at
        if expected_at is None or expected_at <= now:
            raise CaseError(
                "invalid_date",
                _("Give an expected date in the future."),
                status=400,
                field="expected_at",
            )
        if expected_at > limit:
            raise CaseError(
                "after_due",
                _(
                    "The expected date is after the handling time limit;"
                    " ask for an extension first."
                ),
                status=400,
                field="expected_at",
            )
        case.expected_at = expected_at
        case.stage_due_at = limit
    elif action == "request_extension":
        if expected_at is None or expected_at <= case.handling_due_at:
            raise CaseError(
                "invalid_date",
                _("Ask for a date after the current time limit."),
                status=400,
                field="expected_at",
            )
        case.extension, case.extension_until = "requested", expected_at
        public_step = False
    elif action == "approve_extension":
        case.extension = "approved"
        # The request this approves named its date (request_extension refuses one without).
        until = case.extension_until or case.handling_due_at
        case.handling_due_at = until
        if case.state == C.in_progress:
            case.stage_due_at = until
        case.overdue_notified_at = None
    elif action == "deny_extension":
        case.extension, case.extension_until = "denied", None
        public_step = False
    elif action == "resolve":
        case.resolved_at = now
        case.official_response = note
        case.stage_due_at = _due(now, case.category.verification_days)
        case.verify_passed, case.verified_at = None, None
    elif action == "verify":
        if passed is None:
            raise CaseError(
                "passed_required", _("Say whether the check passed."), status=400, field="passed"
            )
        case.verify_passed, case.verified_at = passed, now
    elif action == "close":
        if reason_code not in CLOSE_REASONS:
            raise CaseError(
                "reason_required",
                _("Choose a reason for closing."),
                status=400,
                field="reason_code",
            )
        case.closed_at, case.close_reason, case.stage_due_at = now, reason_code, None
    if move.to is not None and move.to != frm:
        case.overdue_notified_at = None
    if photos and action != "verify":
        raise CaseError(
            "no_photos_here", _("Photos are added with the site check."), status=400, field="photos"
        )
    event = record_event(case, action, user, move.role, note=note, expected_at=expected_at)
    record(user, f"case.{action}", case, state=case.state.value, agency=case.agency.code)
    db.session.flush()
    if photos:
        _add_photos(case, event, photos)
    if action == "verify" and passed is False:
        _reopen(case, None)
    _tell(case, action, public_step)
    if action == "close":
        case_closed.send(case, actor=user, reason=reason_code)


def _add_photos(case: Case, event: CaseEvent, uploads: list[bytes]) -> None:
    from flask import current_app

    from portal.media.images import ImageError, process_images
    from portal.media.storage import storage_for

    limit = current_app.config["MEDIA_MAX_PHOTOS"]
    if len(uploads) > limit:
        raise CaseError(
            "too_many_photos", _("At most %(n)d photos.", n=limit), status=400, field="photos"
        )
    try:
        processed = process_images(uploads)
    except ImageError as err:
        raise CaseError(err.code, str(err.message), status=400, field="photos") from None
    storage = storage_for(current_app)
    for img in processed:
        db.session.add(
            CasePhoto(
                case_id=case.id,
                event_id=event.id,
                content_type=img.content_type,
                width=img.width,
                height=img.height,
                name=storage.save(img.data, img.extension),
                thumb_name=storage.save(img.thumb, img.extension),
            )
        )
    db.session.flush()
