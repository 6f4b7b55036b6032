"""Case rules: routing, filing exactly once, the one transition table, overdue sweep,
supporters' feedback and the close/reopen rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.audit.services import record
from portal.cases.calendar import add_working_days
from portal.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseFeedback,
    CasePhoto,
    CaseState,
    RoutingRule,
)
from portal.cases.signals import case_closed
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.i18n import city_timezone_name, table_label
from portal.extensions import db
from portal.notifications.services import notify, register_type
from portal.places.models import Community, District, Grid, Street
from portal.proposals import signals as proposal_signals
from portal.proposals.models import Category, Proposal, Support
from portal.roles import permissions
from portal.roles.models import Agency, Role, RoleGrant

C = CaseState
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

for _name, _text in {
    "case_filed": _l("Your proposal “%(title)s” is now grid case %(number)s."),
    "case_step": _l("Case %(number)s: %(step)s"),
    "case_assigned": _l("New case %(number)s for your agency: “%(title)s”."),
    "case_overdue": _l("Case %(number)s is overdue."),
    "case_feedback_wanted": _l("Case %(number)s is handled. Is it solved? Tell us."),
}.items():
    register_type(_name, _text)


class CaseError(DomainError):
    """A case rule said no."""


# --- routing ---------------------------------------------------------------------------------


def route(category: Category, community: Community) -> Agency | None:
    """Most specific place first (community, street, district); at the same place a rule for
    the category beats the catch-all; the district's catch-all is the fallback (属地兜底)."""
    street = community.street
    places = [f"community:{community.id}", f"street:{street.id}", f"district:{street.district_id}"]
    rules = db.session.scalars(
        select(RoutingRule).where(
            RoutingRule.place_key.in_(places), RoutingRule.category_key.in_([str(category.id), "*"])
        )
    ).all()
    ranked = sorted(rules, key=lambda r: (places.index(r.place_key), r.category_key == "*"))
    return ranked[0].agency if ranked else None


def set_rule(actor, category: Category | None, place, agency: Agency) -> RoutingRule:
    kind = {"communities": "community", "streets": "street", "districts": "district"}[
        place.__tablename__
    ]
    if category is None and kind != "district":
        raise CaseError(
            "invalid_rule", _("A fallback agency is set for a whole district."), status=400
        )
    category_key = str(category.id) if category else "*"
    place_key = f"{kind}:{place.id}"
    rule = db.session.scalar(
        select(RoutingRule).where(
            RoutingRule.category_key == category_key, RoutingRule.place_key == place_key
        )
    )
    if rule is None:
        rule = RoutingRule(
            category_id=category.id if category else None,
            category_key=category_key,
            place_key=place_key,
            **{f"{kind}_id": place.id},
            agency_id=agency.id,
        )
        db.session.add(rule)
    rule.agency_id = agency.id
    db.session.flush()
    record(
        actor,
        "routing.set",
        rule,
        category=category.code if category else "*",
        place=place.code,
        agency=agency.code,
    )
    return rule


def delete_rule(actor, rule: RoutingRule) -> None:
    record(actor, "routing.delete", rule, category=rule.category_key, place=rule.place_key)
    db.session.delete(rule)
    db.session.flush()


# --- filing ----------------------------------------------------------------------------------


def _next_sequence(community_id: int, year: int) -> int:
    """Bump the per-community, per-year counter under its row lock (created on first use)."""
    bumped = db.session.execute(
        update(CaseCounter)
        .where(CaseCounter.community_id == community_id, CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    ).scalar()
    if bumped is not None:
        return bumped
    try:
        with db.session.begin_nested():
            db.session.execute(
                insert(CaseCounter).values(community_id=community_id, year=year, last=1)
            )
        return 1
    except IntegrityError:  # another filing created the row first; bump it instead
        return db.session.execute(
            update(CaseCounter)
            .where(CaseCounter.community_id == community_id, CaseCounter.year == year)
            .values(last=CaseCounter.last + 1)
            .returning(CaseCounter.last)
        ).scalar_one()


def _due(start: datetime, days: int) -> datetime:
    return add_working_days(start, days, city_timezone_name())


def _event(
    case: Case,
    action: str,
    actor,
    role: str,
    note: str | None = None,
    expected_at: datetime | None = None,
) -> CaseEvent:
    ev = CaseEvent(
        case_id=case.id,
        action=action,
        state=case.state.value,
        actor_id=getattr(actor, "id", None),
        actor_role=role,
        agency_id=case.agency_id,
        note=note,
        expected_at=expected_at,
    )
    db.session.add(ev)
    return ev


def file_case(p: Proposal) -> Case:
    """File and dispatch the case of the qualified ``p`` (on ``proposal_qualified``, inside the
    transaction that qualified it or a retry's). The unique constraint on proposal_id makes a
    second filing impossible."""
    community = p.community
    agency = route(p.category, community)
    if agency is None:
        raise CaseError(
            "no_route",
            _(
                "No routing rule for category “%(category)s” in community “%(community)s”, and"
                " no fallback agency for its district.",
                category=p.category.code,
                community=community.code,
            ),
        )
    now = clock.now()
    year = now.astimezone(ZoneInfo(city_timezone_name())).year
    seq = _next_sequence(community.id, year)
    case = Case(
        number=f"{community.code}-{year}-{seq:05d}",
        proposal_id=p.id,
        community_id=community.id,
        year=year,
        sequence=seq,
        category_id=p.category_id,
        grid_id=p.grid_id,
        agency_id=agency.id,
        state=C.dispatched,
        filed_at=now,
        dispatched_at=now,
        updated_at=now,
        handling_due_at=_due(now, p.category.handling_days),
        stage_due_at=_due(now, p.category.response_days),
    )
    db.session.add(case)
    db.session.flush()
    _event(case, "file", None, "system")
    _event(case, "dispatch", None, "system")
    db.session.flush()
    url = url_for("cases.show", number=case.number)
    params = {"number": case.number, "title": p.title}
    notify(_public_audience(case), "case_filed", case, url=url, params=params)
    notify(_liaisons(agency), "case_assigned", case, url=url, params=params)
    return case


def _file_on_qualified(proposal: Proposal, **_extra) -> None:
    """``proposal_qualified`` is sent again by each retry while the proposal waits to be filed:
    a case filed already is left alone."""
    if case_for_proposal(proposal) is None:
        file_case(proposal)


def install(app) -> None:
    """Subscribe cases to the domain events of the features below it (``create_app`` calls
    this; importing this module connects nothing). Connecting twice is connecting once."""
    proposal_signals.proposal_qualified.connect(_file_on_qualified)


# --- who is told -----------------------------------------------------------------------------


def _public_audience(case: Case) -> list[int]:
    """The author and everyone who supported the proposal (ids only; never shown)."""
    ids = set(
        db.session.scalars(select(Support.user_id).where(Support.proposal_id == case.proposal_id))
    )
    ids.add(case.proposal.author_id)
    return sorted(ids)


def _liaisons(agency: Agency) -> list[int]:
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.liaison, RoleGrant.agency_id == agency.id
            )
        )
    )


def _supervisors(case: Case) -> list[int]:
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.supervisor,
                RoleGrant.district_id == case.community.street.district_id,
            )
        )
    )


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
    """A case is routed only within its own district, by a supervisor of that district."""
    district = case.community.street.district
    return agency.district_id == district.id and permissions.is_supervisor(user, agency.district)


def reroute_agencies(case: Case) -> list[Agency]:
    """The agencies a returned case may go to: its district's, other than the current one."""
    return list(
        db.session.scalars(
            select(Agency)
            .where(
                Agency.district_id == case.community.street.district_id,
                Agency.id != case.agency_id,
            )
            .order_by(Agency.code)
        )
    )


def allowed_actions(user, case: Case) -> list[str]:
    return [
        action
        for (state, action), move in TRANSITIONS.items()
        if state == case.state
        and role_for(user, case, move.role)
        and _precondition(case, action) is None
    ]


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
                _("Choose an agency of the case's district."),
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
    event = _event(case, action, user, move.role, note=note, expected_at=expected_at)
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


def photos(case: Case) -> list[CasePhoto]:
    return list(
        db.session.scalars(
            select(CasePhoto).where(CasePhoto.case_id == case.id).order_by(CasePhoto.id)
        )
    )


def _reopen(case: Case, actor) -> None:
    """返工: back to in progress, counted against the agency."""
    now = clock.now()
    case.state = C.in_progress
    case.reopen_count += 1
    case.resolved_at = None
    case.handling_due_at = _due(now, case.category.handling_days)
    case.stage_due_at = case.handling_due_at
    case.overdue_notified_at = None
    _event(case, "reopen", actor, "system" if actor is None else "supervisor")
    db.session.flush()


def _tell(case: Case, action: str, public_step: bool) -> None:
    url = url_for("cases.show", number=case.number)
    params = {
        "number": case.number,
        "step": {"zh_Hans": step_label(action, "zh_Hans"), "en": step_label(action, "en")},
    }
    if public_step:
        notify(_public_audience(case), "case_step", case, url=url, params=params)
    if action == "resolve":
        notify(_public_audience(case), "case_feedback_wanted", case, url=url, params=params)
    if action in ("return", "request_extension"):
        notify(_supervisors(case), "case_step", case, url=url, params=params)
    if action == "reroute":
        notify(
            _liaisons(case.agency),
            "case_assigned",
            case,
            url=url,
            params={"number": case.number, "title": case.proposal.title},
        )


# --- verification feedback -------------------------------------------------------------------


def give_feedback(
    user: User, case: Case, *, solved: bool, satisfaction: int, comment: str = ""
) -> CaseFeedback:
    if case.state != C.verifying:
        raise CaseError(
            "not_verifying", _("Feedback is asked for while the case is being verified.")
        )
    supported = db.session.scalar(
        select(Support.id).where(
            Support.proposal_id == case.proposal_id, Support.user_id == user.id
        )
    )
    if supported is None:
        raise CaseError(
            "not_a_supporter", _("Only residents who supported the proposal answer."), status=403
        )
    if not 1 <= satisfaction <= 5:
        raise CaseError(
            "invalid_satisfaction", _("Choose 1 to 5."), status=400, field="satisfaction"
        )
    if has_answered(user, case):
        raise CaseError("already_answered", _("You have already answered."))
    fb = CaseFeedback(
        case_id=case.id,
        user_id=user.id,
        round=case.reopen_count,
        solved=solved,
        satisfaction=satisfaction,
        comment=(comment or "").strip()[:500],
    )
    db.session.add(fb)
    db.session.flush()
    return fb


def has_answered(user, case: Case) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(CaseFeedback.id).where(
                CaseFeedback.case_id == case.id, CaseFeedback.user_id == user.id
            )
        )
        is not None
    )


def feedback_summary(case: Case, round_: int | None = None) -> dict:
    stmt = select(
        func.count().filter(CaseFeedback.solved.is_(True)),
        func.count().filter(CaseFeedback.solved.is_(False)),
        func.avg(CaseFeedback.satisfaction),
    ).where(CaseFeedback.case_id == case.id)
    if round_ is not None:
        stmt = stmt.where(CaseFeedback.round == round_)
    yes, no, avg = db.session.execute(stmt).one()
    return {
        "solved_yes": yes or 0,
        "solved_no": no or 0,
        "satisfaction_avg": round(float(avg), 2) if avg is not None else None,
    }


# --- sweep -----------------------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """For cron, safe to run twice: settle verifications whose period ended, then mark and
    announce overdue stages once each."""
    now = clock.now()
    done = {"closed": 0, "reopened": 0, "overdue": 0}
    ending = db.session.scalars(
        select(Case).where(Case.state == C.verifying, Case.stage_due_at <= now)
    ).all()
    for case in ending:
        answers = feedback_summary(case, case.reopen_count)
        majority_no = answers["solved_no"] * 2 > answers["solved_yes"] + answers["solved_no"]
        if case.verify_passed and not majority_no:
            case.state, case.closed_at, case.close_reason = C.closed, now, "resolved"
            case.stage_due_at = None
            _event(case, "close", None, "system")
            db.session.flush()
            _tell(case, "close", True)
            case_closed.send(case, actor=None, reason="resolved")
            done["closed"] += 1
        else:
            _reopen(case, None)
            _tell(case, "reopen", True)
            done["reopened"] += 1
    late = db.session.scalars(
        select(Case).where(
            Case.state.in_([C.dispatched, C.accepted, C.in_progress, C.verifying]),
            Case.stage_due_at < now,
            Case.overdue_notified_at.is_(None),
        )
    ).all()
    for case in late:
        case.overdue_notified_at = now
        url = url_for("cases.show", number=case.number)
        notify(
            sorted(set(_liaisons(case.agency)) | set(_supervisors(case))),
            "case_overdue",
            case,
            url=url,
            params={"number": case.number},
        )
        done["overdue"] += 1
    db.session.flush()
    return done


# --- workspace lists --------------------------------------------------------------------------

LIAISON_TABS = ("new", "due", "overdue", "returned", "all")
SUPERVISOR_TABS = ("returned", "overdue", "extensions")


def liaison_cases(agency: Agency, tab: str):
    """The cases of an agency's workspace tab, or None for an unknown tab."""
    if tab not in LIAISON_TABS:
        return None
    stmt = select(Case).where(Case.agency_id == agency.id)
    # Only the asked tab's conditions are built: expressions cost more than they look.
    if tab == "new":
        return stmt.where(Case.state == C.dispatched)
    if tab == "due":
        return stmt.where(
            Case.state.in_([C.accepted, C.in_progress]), Case.stage_due_at >= clock.now()
        )
    if tab == "overdue":
        return stmt.where(Case.state != C.closed, Case.stage_due_at < clock.now())
    if tab == "returned":
        return stmt.where(Case.state == C.returned)
    return stmt


def supervisor_cases(district: District, tab: str):
    """The cases of a district supervisor's tab, or None for an unknown tab."""
    if tab not in SUPERVISOR_TABS:
        return None
    stmt = select(Case).where(
        Case.community_id.in_(
            select(Community.id).join(Street).where(Street.district_id == district.id)
        ),
        Case.state != C.closed,
    )
    return {
        "returned": stmt.where(Case.state == C.returned),
        "overdue": stmt.where(Case.stage_due_at < clock.now()),
        "extensions": stmt.where(Case.extension == "requested"),
    }[tab]


def verification_cases(grants: list) -> object:
    """Cases waiting for an on-site check within a grid worker's grants."""
    community_ids = {g.community_id for g in grants if g.community_id}
    grid_ids = {g.grid_id for g in grants if g.grid_id}
    grid_communities = (
        set(db.session.scalars(select(Grid.community_id).where(Grid.id.in_(grid_ids))))
        if grid_ids
        else set()
    )
    # A grant for any grid of a community covers that community's cases without a grid.
    scope = (
        Case.community_id.in_(community_ids)
        | Case.grid_id.in_(grid_ids)
        | (Case.grid_id.is_(None) & Case.community_id.in_(grid_communities))
    )
    return select(Case).where(scope, Case.state == C.verifying)


def is_overdue(case: Case) -> bool:
    return (
        case.state != C.closed and case.stage_due_at is not None and case.stage_due_at < clock.now()
    )


def timeline(case: Case) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


def case_for_proposal(p: Proposal) -> Case | None:
    return db.session.scalar(select(Case).where(Case.proposal_id == p.id))


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
    "resolve": _l("Handled: official response"),
    "verify": _l("Checked on site"),
    "close": _l("Closed"),
    "reopen": _l("Reopened for rework"),
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
    from flask_babel import force_locale

    with force_locale(locale):
        return action_label(action)


def close_reason_label(code: str | None) -> str:
    return table_label(_CLOSE_REASON_LABELS, code)
