"""Case endpoints of the JSON API."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from portal.api import ApiError, body, bp, iso, require_user
from portal.api.pagination import keyset
from portal.cases import services as cases
from portal.cases.models import Case, RoutingRule
from portal.cases.views import case_query
from portal.core.guards import login_required, public
from portal.extensions import db
from portal.proposals import services as proposals
from portal.roles.models import Agency


def _agency(a: Agency) -> dict:
    return {
        "code": a.code,
        "name": a.name_zh,
        "name_en": a.name_en,
        "district_code": a.district.code,
    }


def _item(c: Case) -> dict:
    readable = proposals.can_read(current_user, c.proposal)
    return {
        "number": c.number,
        "proposal_id": c.proposal_id,
        # A proposal hidden for personal data keeps its title from all but its author and
        # committee here too; the case itself stays public.
        "title": c.proposal.title if readable else None,
        "proposal_hidden": c.proposal.hidden,
        "category": c.category.code,
        "community_code": c.community.code,
        "agency": {"code": c.agency.code, "name": c.agency.name_zh},
        "state": c.state.value,
        "filed_at": iso(c.filed_at),
        "dispatched_at": iso(c.dispatched_at),
        "stage_due_at": iso(c.stage_due_at),
        "overdue": cases.is_overdue(c),
        "closed_at": iso(c.closed_at),
        "close_reason": c.close_reason,
        "reopen_count": c.reopen_count,
    }


def _detail(c: Case) -> dict:
    data = _item(c)
    data["official_response"] = c.official_response
    data["expected_at"] = iso(c.expected_at)
    data["timeline"] = [
        {
            "at": iso(e.created_at),
            "action": e.action,
            "state": e.state,
            "actor_role": e.actor_role,
            "agency_code": e.agency.code if e.agency else None,
            "note": e.note,
        }
        for e in cases.timeline(c)
    ]
    data["verification"] = cases.feedback_summary(c)
    data["verify_passed"] = c.verify_passed
    if current_user.is_authenticated:
        data["allowed_actions"] = cases.allowed_actions(current_user, c)
    return data


@bp.get("/cases")
@public
def cases_list():
    stmt, bad = case_query(request.args)
    if bad:
        raise ApiError(
            400, "invalid_parameter", f"Unknown {bad}.", {bad: "Use a known code or value."}
        )
    rows, next_url = keyset(stmt, Case.id, descending=True)
    return jsonify({"items": [_item(c) for c in rows], "next": next_url})


def _load(number: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise ApiError(404, "not_found", "No case has this number.")
    return case


@bp.get("/cases/<number>")
@public
def case(number: str):
    return jsonify(_detail(_load(number)))


def _error(err: cases.CaseError) -> ApiError:
    return ApiError(
        err.status, err.code, err.message, {err.field: err.message} if err.field else None
    )


def _parse_dt(value, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(
            400,
            "validation_failed",
            "Use an ISO 8601 date-time.",
            {field: "An ISO 8601 date-time with a time zone."},
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(
            400,
            "validation_failed",
            "Use an ISO 8601 date-time.",
            {field: "An ISO 8601 date-time with a time zone."},
        )
    return parsed


@bp.post("/cases/<number>/actions")
@login_required
def case_action(number: str):
    user = require_user()
    c = _load(number)
    data = body()
    action, note = data.get("action"), data.get("note")
    if not isinstance(action, str) or (note is not None and not isinstance(note, str)):
        raise ApiError(
            400,
            "validation_failed",
            "action and note are text.",
            {"action": "One of: " + ", ".join(cases.ACTIONS)},
        )
    agency = None
    if data.get("agency_code") is not None:
        agency = (
            db.session.scalar(select(Agency).where(Agency.code == data["agency_code"]))
            if isinstance(data["agency_code"], str)
            else None
        )
        if agency is None:
            raise ApiError(
                400,
                "unknown_agency",
                "No agency has this code.",
                {"agency_code": "Use a code from /api/v1/agencies."},
            )
    passed = data.get("passed")
    if passed is not None and not isinstance(passed, bool):
        raise ApiError(
            400, "validation_failed", "passed is true or false.", {"passed": "true or false"}
        )
    reason = data.get("reason_code")
    if reason is not None and not isinstance(reason, str):
        raise ApiError(
            400,
            "validation_failed",
            "reason_code is text.",
            {"reason_code": "duplicate, not-responsible or no-further-action"},
        )
    try:
        cases.act(
            user,
            c,
            action,
            note=note,
            expected_at=_parse_dt(data.get("expected_at"), "expected_at"),
            agency=agency,
            passed=passed,
            reason_code=reason,
        )
    except cases.CaseError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify(_detail(c))


@bp.post("/cases/<number>/feedback")
@login_required
def case_feedback(number: str):
    user = require_user()
    c = _load(number)
    data = body()
    solved, satisfaction, comment = (
        data.get("solved"),
        data.get("satisfaction"),
        data.get("comment", ""),
    )
    fields = {}
    if not isinstance(solved, bool):
        fields["solved"] = "true or false"
    if (
        not isinstance(satisfaction, int)
        or isinstance(satisfaction, bool)
        or not 1 <= satisfaction <= 5
    ):
        fields["satisfaction"] = "A whole number from 1 to 5."
    if comment is not None and (not isinstance(comment, str) or len(comment) > 500):
        fields["comment"] = "At most 500 characters."
    if fields:
        raise ApiError(400, "validation_failed", "Some fields are not valid.", fields)
    try:
        cases.give_feedback(
            user, c, solved=solved, satisfaction=satisfaction, comment=comment or ""
        )
    except cases.CaseError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify({"verification": cases.feedback_summary(c)}), 201


@bp.get("/agencies")
@public
def agencies():
    rows = db.session.scalars(select(Agency).order_by(Agency.code)).all()
    return jsonify({"items": [_agency(a) for a in rows], "next": None})


@bp.get("/routing-rules")
@public
def routing_rules():
    rows = db.session.scalars(select(RoutingRule).order_by(RoutingRule.id)).all()
    return jsonify(
        {
            "items": [
                {
                    "category": r.category.code if r.category else None,
                    "place_level": r.level,
                    "place_code": r.place.code,
                    "agency_code": r.agency.code,
                    "fallback": r.category_id is None,
                }
                for r in rows
            ],
            "next": None,
        }
    )
