"""Proposal endpoints of the JSON API."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import lazyload
from werkzeug.datastructures import MultiDict

from portal.accounts.bearer import authenticate_deferred
from portal.core.api import (
    ApiError,
    bp,
    iso,
    require_user,
    signed_in_by_statement,
    signed_in_by_token,
    token_in_statement,
)
from portal.core.guards import login_required, public
from portal.core.i18n import gettext as _
from portal.core.limits import configured, user_key
from portal.core.pagination import keyset
from portal.core.urls import query_args
from portal.core.validation import accepts
from portal.extensions import db, limiter
from portal.places.models import District, Grid
from portal.places.services import community_by_code, community_id_by_code
from portal.proposals import hooks, listing
from portal.proposals import schemas as S
from portal.proposals import services as proposals
from portal.proposals.cards import Card
from portal.proposals.forms import ProposalForm
from portal.proposals.models import Category, Proposal, Status
from portal.proposals.views import categories as active_categories
from portal.roles import permissions


def _category(c: Category) -> dict:
    return {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "icon": c.icon}


def _item(p: Proposal | Card, mine: set[int] | None = None, cases: dict | None = None) -> dict:
    """A proposal in a list (a page's ``Card``, or a proposal); ``cases`` (the page's, read
    with it or by ``hooks.cases_of``) adds the ``case`` object of those that became a case."""
    if isinstance(p, Card):
        category, community = p.category_code, p.community_code
    else:
        category, community = p.category.code, p.community.code
    data = {
        "id": p.id,
        "title": p.title,
        "summary": p.summary,
        "status": proposals.effective_status(p).value,
        "category": category,
        "community_code": community,
        "support_count": p.support_count,
        "threshold": p.threshold,
        "opened_at": iso(p.opened_at),
        "closes_at": iso(p.closes_at),
        "threshold_reached_at": iso(p.threshold_reached_at),
    }
    if mine is not None:
        data["supported_by_me"] = p.id in mine
    if cases is not None:
        data["case"] = hooks.case_json(cases.get(p.id))
    return data


# What a hidden proposal keeps from those who may not read it (see proposals.can_read): the
# same keys, so clients need no second shape, with every text the author wrote set to null.
_CONTENT = (
    "title",
    "summary",
    "body_html",
    "author",
    "grid_code",
    "location_note",
    "withdraw_reason",
    "review_note",
)


def _detail(p: Proposal) -> dict:
    data = _item(p)
    case = hooks.case_of(p) if p.status == Status.qualified else None
    data.update(
        body_html=p.body_html,
        author={"display_name": p.author.public_name},
        grid_code=p.grid.code if p.grid else None,
        location_note=p.location_note,
        created_at=iso(p.created_at),
        submitted_at=iso(p.submitted_at),
        reject_reason=p.reject_reason,
        duplicate_of=p.duplicate_of_id,
        withdraw_reason=p.withdraw_reason,
        review_note=p.review_note if p.status.value in ("rejected", "changes_requested") else None,
        case_number=case.number if case else None,
        case=hooks.case_json(case, count=True),
        photos=[
            {
                "url": url_for("proposals.photo", proposal_id=p.id, photo_id=ph.id),
                "thumb_url": url_for(
                    "proposals.photo", proposal_id=p.id, photo_id=ph.id, size="thumb"
                ),
                "width": ph.width,
                "height": ph.height,
            }
            for ph in (proposals.photos(p) if proposals.can_view_photos(current_user, p) else [])
        ],
        hidden=p.hidden,
        hidden_automatically=p.hidden_auto,
        hidden_reason=p.hidden_reason,
        hidden_note=p.hidden_note,
    )
    if not proposals.can_read(current_user, p):
        data.update(dict.fromkeys(_CONTENT))  # as the page: the notice, not the proposal
    if current_user.is_authenticated:
        data["supported_by_me"] = proposals.has_supported(current_user, p)
    return data


@bp.get("/categories")
@public
def categories():
    return jsonify({"items": [_category(c) for c in active_categories()], "next": None})


@bp.get("/proposals")
@public
@accepts(query=S.ProposalsQuery)
def proposals_list(params: S.ProposalsQuery):
    district_id = category = None
    if params.district:
        district_id = db.session.scalar(select(District.id).where(District.code == params.district))
        if district_id is None:
            raise ApiError(
                "invalid_parameter",
                "Unknown district.",
                status=400,
                fields={"district": "No district has this code."},
            )
    if params.category:
        category = next((c for c in active_categories() if c.code == params.category), None)
        if category is None:
            raise ApiError(
                "invalid_parameter",
                "Unknown category.",
                status=400,
                fields={"category": "Use a code from /api/v1/categories."},
            )
    # The community is found by its code in the page's own statement: only an empty page
    # asks whether the code names one.
    f = listing.Filters(
        community_code=params.community or None,
        district_id=district_id,
        category=category,
        status=params.status,
        q=(params.q or "")[:50],
        sort=params.sort,
    )
    try:
        items, nxt, cases = listing.page(f, params.cursor, params.limit)
    except listing.BadCursor:
        raise ApiError(
            "invalid_cursor",
            "The cursor is not valid.",
            status=400,
            fields={"cursor": "Use the next link of a previous page."},
        ) from None
    if not items and params.community and community_id_by_code(params.community) is None:
        raise ApiError(
            "invalid_parameter",
            "Unknown community.",
            status=400,
            fields={"community": "No community has this code."},
        )
    mine = proposals.supported_ids(current_user, [p.id for p in items])
    next_url = None
    if nxt:
        from flask import url_for

        args: dict[str, Any] = query_args("cursor")
        next_url = url_for("api.proposals_list", **args, cursor=nxt)
    signed_in = current_user.is_authenticated
    return jsonify(
        {
            "items": [_item(p, mine if signed_in else None, cases) for p in items],
            "next": next_url,
        }
    )


@bp.get("/proposals/similar")
@public
@accepts(query=S.SimilarQuery)
def similar_proposals(params: S.SimilarQuery):
    community = community_by_code(params.community)
    if community is None:
        raise ApiError(
            "invalid_parameter",
            "Unknown community.",
            status=400,
            fields={"community": "No community has this code."},
        )
    q = params.q.strip()
    if not q:
        raise ApiError(
            "invalid_parameter",
            "Say what to compare.",
            status=400,
            fields={"q": "Give the title or summary you are about to submit."},
        )
    items = proposals.similar(community, q[:400])
    return jsonify({"items": [_item(p) for p in items], "next": None})


def _load(proposal_id: int, lean: bool = False) -> Proposal:
    p = db.session.get(Proposal, proposal_id, options=[lazyload("*")] if lean else None)
    if p is None or not proposals.is_visible(current_user, p):
        raise ApiError("not_found", "No such proposal.", status=404)
    return p


@bp.get("/proposals/<id:proposal_id>")
@public
def proposal(proposal_id: int):
    return jsonify(_detail(_load(proposal_id)))


def _form_from_json(data: dict, community, partial: Proposal | None = None) -> dict:
    """``data``: the body model's members (None for those not sent)."""
    """Validate a JSON body with the proposal form's rules; returns the service arguments."""
    fields: dict[str, str] = {}
    values = {}
    keys = ("title", "summary", "body", "category", "grid_code", "location_note")
    for key in keys:
        value = data.get(key)
        if value is None and partial is not None:
            value = {
                "title": partial.title,
                "summary": partial.summary,
                "body": partial.body,
                "category": partial.category.code,
                "grid_code": partial.grid.code if partial.grid else "",
                "location_note": partial.location_note,
            }[key]
        if value is None:
            value = ""
        if not isinstance(value, str):
            fields[key] = _("Must be text.")
            continue
        values[key] = value
    form = ProposalForm(
        formdata=MultiDict(
            {
                **{k: v for k, v in values.items() if k != "grid_code"},
                "grid": values.get("grid_code", ""),
            }
        ),
        meta={"csrf": False},
    )
    form.category.choices = [c.code for c in active_categories()]
    grids = db.session.scalars(select(Grid.code).where(Grid.community_id == community.id)).all()
    form.grid.choices = ["", *grids]
    form.validate()
    for name, errors in form.errors.items():
        fields.setdefault("grid_code" if name == "grid" else name, str(errors[0]))
    if fields:
        raise ApiError("validation_failed", "Some fields are not valid.", status=400, fields=fields)
    category = next(c for c in active_categories() if c.code == values["category"])
    grid = None
    if values.get("grid_code"):
        grid = db.session.scalar(select(Grid).where(Grid.code == values["grid_code"]))
    return {
        "title": values["title"],
        "summary": values["summary"],
        "body": values["body"],
        "category": category,
        "grid": grid,
        "location_note": values.get("location_note", ""),
    }


_create_limit = configured("PROPOSAL_CREATE_LIMIT")


@bp.post("/proposals")
@login_required
@limiter.limit(_create_limit, key_func=user_key)
@accepts(body=S.NewProposal)
def create_proposal(data: S.NewProposal):
    user = require_user()
    community = user.community
    if community is None:
        raise ApiError(
            "not_a_resident", "Only confirmed residents can write proposals.", status=403
        )
    submit = data.submit
    values = _form_from_json(data.model_dump(), community)
    p = proposals.create(user, community, submit=submit, **values)
    return jsonify(_detail(p)), 201


@bp.patch("/proposals/<id:proposal_id>")
@login_required
@accepts(body=S.ProposalPatch)
def update_proposal(proposal_id: int, data: S.ProposalPatch):
    user = require_user()
    p = _load(proposal_id)
    if p.author_id != user.id:
        raise ApiError("not_author", "Only the author can edit this proposal.", status=403)
    values = _form_from_json(data.model_dump(), p.community, partial=p)
    proposals.edit(user, p, **values)
    return jsonify(_detail(p))


@bp.post("/proposals/<id:proposal_id>/submit")
@login_required
def submit_proposal(proposal_id: int):
    user = require_user()
    p = _load(proposal_id)
    proposals.submit_proposal(user, p)
    return jsonify(_detail(p))


@bp.post("/proposals/<id:proposal_id>/withdraw")
@login_required
@accepts(body=S.Withdraw)
def withdraw_proposal(proposal_id: int, data: S.Withdraw):
    user = require_user()
    p = _load(proposal_id)
    reason = data.reason
    proposals.withdraw(user, p, reason)
    return jsonify(_detail(p))


@bp.get("/communities/<code>/review-queue")
@login_required
@accepts(query=S.LimitQuery)
def review_queue(code: str, params: S.LimitQuery):
    community = community_by_code(code)
    if community is None:
        raise ApiError("not_found", "No community has this code.", status=404)
    if not permissions.is_committee(current_user, community):
        raise ApiError("forbidden", "Only this community's committee sees its queue.", status=403)
    items = db.session.scalars(proposals.review_queue(community).limit(params.limit)).all()
    out = []
    for p in items:
        item = _item(p)
        item.update(
            submitted_at=iso(p.submitted_at),
            review_due_at=iso(p.review_due_at),
            overdue=proposals.is_overdue(p),
        )
        out.append(item)
    return jsonify({"items": out, "next": None})


@bp.post("/proposals/<id:proposal_id>/review")
@login_required
@accepts(body=S.Review)
def review(proposal_id: int, data: S.Review):
    user = require_user()
    p = _load(proposal_id)
    if not permissions.is_committee(user, p.community):
        raise ApiError("forbidden", "Only this community's committee reviews it.", status=403)
    decision = data.decision
    reason, note, dup = data.reason_code, data.note, data.duplicate_of
    original = db.session.get(Proposal, dup) if dup is not None else None
    proposals.review(user, p, decision, reason_code=reason, note=note, duplicate_of=original)
    return jsonify(_detail(p))


_support_limit = configured("SUPPORT_LIMIT")
_support_ip_limit = configured("SUPPORT_IP_LIMIT")


@bp.route("/proposals/<id:proposal_id>/support", methods=["POST", "DELETE"])
@signed_in_by_statement
@limiter.limit(_support_limit, key_func=user_key)
@limiter.limit(_support_ip_limit)
def support(proposal_id: int):
    """POST supports, DELETE withdraws the support (before the threshold)."""
    adding = request.method == "POST"
    token_hash = token_in_statement()
    if token_hash is not None:
        # The token, the resident and the support in one statement; anything it could not do
        # (an invalid token included) takes the usual path below, which says why.
        done = proposals.support_by_token(token_hash, proposal_id)
        if done is not None:
            signed_in_by_token()
            return _supported(*done)
        refused = authenticate_deferred()
        if refused is not None:
            return refused
    user = require_user()
    if adding and token_hash is None:  # the statement above tried that already
        done = proposals.support_at_once(user, proposal_id)
        if done is not None:
            return _supported(*done)
    # Without the joined community, category and author: supporting needs none of them.
    p = _load(proposal_id, lean=True)
    count = proposals.support(user, p) if adding else proposals.unsupport(user, p)
    body = {"support_count": count, "status": proposals.effective_status(p).value}
    return jsonify(body), 201 if adding else 200


def _supported(count: int, status: Status) -> tuple[Response, int]:
    return jsonify({"support_count": count, "status": status.value}), 201


def _mine(p: Proposal, cases: dict) -> dict:
    """One of the caller's own proposals: every state, and what its author needs to act on."""
    data = _item(p, cases=cases)
    data.update(
        created_at=iso(p.created_at),
        submitted_at=iso(p.submitted_at),
        review_due_at=iso(p.review_due_at),
        reject_reason=p.reject_reason,
        duplicate_of=p.duplicate_of_id,
        review_note=p.review_note if p.status.value in ("rejected", "changes_requested") else None,
        withdrawn_at=iso(p.withdrawn_at),
        hidden=p.hidden,
        hidden_reason=p.hidden_reason,
    )
    return data


@bp.get("/me/proposals")
@login_required
@accepts(query=S.MyProposalsQuery)
def my_proposals(params: S.MyProposalsQuery):
    user = require_user()
    rows, next_url = keyset(
        proposals.my_proposals(user, params.status), Proposal.id, descending=True
    )
    cases = hooks.cases_of(rows)
    return jsonify({"items": [_mine(p, cases) for p in rows], "next": next_url})
