"""Case endpoints of the JSON API."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from portal.cases import schemas as S
from portal.cases import services as cases
from portal.cases.models import Case, RoutingRule
from portal.cases.services.progress import CaseBrief
from portal.cases.views import case_query, filtered
from portal.core.api import ApiError, bp, iso, require_user
from portal.core.guards import login_required, public
from portal.core.pagination import keyset
from portal.core.validation import accepts
from portal.extensions import db
from portal.proposals import services as proposals
from portal.roles.models import Agency


def _agency(a: Agency) -> dict:
    return {
        "code": a.code,
        "name": a.name_zh,
        "name_en": a.name_en,
        "district_code": a.district.code,
        "active": a.active,
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


def proposal_case(c: Case | CaseBrief, count: bool = False) -> dict:
    """The ``case`` object of a proposal in the API: the case's stage in words (the caller's
    language), the agency, the limit that runs now and, once closed, the outcome. ``count``
    adds the working days left (one calendar query; single proposals only)."""
    dl = cases.deadline(c, count=count)
    deadline: dict | None = None
    if dl is not None:
        deadline = {
            "kind": dl.kind,
            "label": dl.label,
            "due_at": iso(dl.due_at),
            "overdue": dl.overdue,
        }
        if count:
            deadline.update(working_days=dl.working_days, remaining=dl.remaining)
    return {
        "number": c.number,
        "state": c.state.value,
        "stage": cases.stage_text(c),
        "agency": {"code": c.agency.code, "name": c.agency.name_zh, "name_en": c.agency.name_en},
        "deadline": deadline,
        "closed_at": iso(c.closed_at),
        "close_reason": c.close_reason,
        "outcome": cases.outcome(c),
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
@accepts(query=S.CasesQuery)
def cases_list(params: S.CasesQuery):
    found = case_query(request.args)
    if isinstance(found, str):
        bad = found
        raise ApiError(
            "invalid_parameter",
            f"Unknown {bad}.",
            status=400,
            fields={bad: "Use a known code or value."},
        )
    shape, values = found
    rows, next_url = keyset(filtered(shape), Case.id, descending=True, params=values)
    return jsonify({"items": [_item(c) for c in rows], "next": next_url})


def _load(number: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise ApiError("not_found", "No case has this number.", status=404)
    return case


@bp.get("/cases/<number>")
@public
def case(number: str):
    return jsonify(_detail(_load(number)))


@bp.post("/cases/<number>/actions")
@login_required
@accepts(body=S.CaseAction)
def case_action(number: str, data: S.CaseAction):
    user = require_user()
    c = _load(number)
    action, note = data.action, data.note
    agency = None
    if data.agency_code is not None:
        agency = db.session.scalar(select(Agency).where(Agency.code == data.agency_code))
        if agency is None:
            raise ApiError(
                "unknown_agency",
                "No agency has this code.",
                status=400,
                fields={"agency_code": "Use a code from /api/v1/agencies."},
            )
    passed, reason = data.passed, data.reason_code
    cases.act(
        user,
        c,
        action,
        note=note,
        expected_at=data.expected_at,
        agency=agency,
        passed=passed,
        reason_code=reason,
    )
    return jsonify(_detail(c))


@bp.post("/cases/<number>/feedback")
@login_required
@accepts(body=S.CaseFeedback)
def case_feedback(number: str, data: S.CaseFeedback):
    user = require_user()
    c = _load(number)
    solved, satisfaction, comment = data.solved, data.satisfaction, data.comment
    cases.give_feedback(user, c, solved=solved, satisfaction=satisfaction, comment=comment or "")
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
