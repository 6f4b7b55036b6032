"""Deliberation and moderation endpoints of the JSON API."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request, url_for
from flask_login import current_user

from portal.api import ApiError, body, bp, iso, require_user
from portal.api.pagination import cursor_arg, encode_cursor, keyset, limit_arg
from portal.core.guards import login_required, public
from portal.core.limits import configured, user_key
from portal.deliberation import services as delib
from portal.deliberation.models import STANCES, Appeal, Comment, ModerationAction
from portal.extensions import db, limiter
from portal.places.services import community_by_code
from portal.proposals import services as proposals
from portal.proposals.models import Proposal

_comment_limit = configured("COMMENT_LIMIT")
_comment_ip_limit = configured("COMMENT_IP_LIMIT")
_report_limit = configured("REPORT_LIMIT")
_report_ip_limit = configured("REPORT_IP_LIMIT")


def _error(err: delib.DeliberationError) -> ApiError:
    return ApiError(
        err.status, err.code, err.message, {err.field: err.message} if err.field else None
    )


def _comment(c: Comment) -> dict:
    visible = not c.hidden and c.deleted_at is None
    return {
        "id": c.id,
        "proposal_id": c.proposal_id,
        "parent_id": c.parent_id,
        "stance": c.stance,
        "body_html": c.body_html if visible else None,
        "author": {"display_name": c.author.display_name} if visible else None,
        "badge": c.badge,
        "agency_code": c.badge_agency.code if c.badge_agency else None,
        "created_at": iso(c.created_at),
        "edited": c.edited_at is not None,
        "deleted": c.deleted_at is not None,
        "hidden": c.hidden,
        "hidden_automatically": c.hidden_auto,
        "hidden_reason": c.hidden_reason,
    }


def _proposal(proposal_id: int) -> Proposal:
    p = db.session.get(Proposal, proposal_id)
    if p is None or not proposals.can_read(current_user, p):
        raise ApiError(404, "not_found", "No such proposal.")
    return p


@bp.get("/proposals/<int:proposal_id>/comments")
@public
def comments(proposal_id: int):
    p = _proposal(proposal_id)
    stance = request.args.get("stance") or None
    if stance is not None and stance not in STANCES:
        raise ApiError(
            400, "invalid_parameter", "Unknown stance.", {"stance": "for, against or question"}
        )
    stmt = db.select(Comment).where(Comment.proposal_id == p.id)
    if stance:
        stmt = stmt.where(Comment.stance == stance)
    rows, next_url = keyset(stmt, Comment.id)
    return jsonify(
        {"items": [_comment(c) for c in rows], "next": next_url, "counts": delib.stance_counts(p)}
    )


@bp.post("/proposals/<int:proposal_id>/comments")
@login_required
@limiter.shared_limit(_comment_limit, "comment", key_func=user_key)
@limiter.shared_limit(_comment_ip_limit, "comment-ip")
def create_comment(proposal_id: int):
    user = require_user()
    p = _proposal(proposal_id)
    data = body()
    text, stance, parent_id = data.get("body"), data.get("stance"), data.get("parent_id")
    if (
        not isinstance(text, str)
        or (stance is not None and not isinstance(stance, str))
        or (
            parent_id is not None
            and (not isinstance(parent_id, int) or isinstance(parent_id, bool))
        )
    ):
        raise ApiError(
            400,
            "validation_failed",
            "body is text, stance text, parent_id a number.",
            {"body": "Text of at most 1,000 characters."},
        )
    parent = None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None:
            raise ApiError(
                400,
                "validation_failed",
                "Unknown parent comment.",
                {"parent_id": "Reply to a comment of this proposal."},
            )
    try:
        c = delib.add_comment(user, p, text, stance, parent)
    except delib.DeliberationError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify(_comment(c)), 201


def _own(comment_id: int) -> Comment:
    c = db.session.get(Comment, comment_id)
    if c is None:
        raise ApiError(404, "not_found", "No such comment.")
    return c


@bp.patch("/comments/<int:comment_id>")
@login_required
@limiter.shared_limit(_comment_limit, "comment", key_func=user_key)  # as writing one
@limiter.shared_limit(_comment_ip_limit, "comment-ip")
def patch_comment(comment_id: int):
    user = require_user()
    c = _own(comment_id)
    text = body().get("body")
    if not isinstance(text, str):
        raise ApiError(400, "validation_failed", "body is text.", {"body": "Text."})
    try:
        delib.edit_comment(user, c, text)
    except delib.DeliberationError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify(_comment(c))


@bp.delete("/comments/<int:comment_id>")
@login_required
def remove_comment(comment_id: int):
    user = require_user()
    c = _own(comment_id)
    try:
        delib.delete_comment(user, c)
    except delib.DeliberationError as err:
        raise _error(err) from None
    db.session.commit()
    return "", 204


@bp.post("/reports")
@login_required
@limiter.shared_limit(_report_limit, "report", key_func=user_key)
@limiter.shared_limit(_report_ip_limit, "report-ip")
def create_report():
    user = require_user()
    data = body()
    target_type, target_id = data.get("target_type"), data.get("target_id")
    reason, note = data.get("reason"), data.get("note", "")
    if (
        not isinstance(target_type, str)
        or not isinstance(target_id, int)
        or isinstance(target_id, bool)
        or not isinstance(reason, str)
        or (note is not None and (not isinstance(note, str) or len(note) > 500))
    ):
        raise ApiError(
            400,
            "validation_failed",
            "Some fields are not valid.",
            {
                "target_id": "target_type (proposal|comment), target_id (number), "
                "reason, note (≤ 500)"
            },
        )
    try:
        r = delib.report(user, target_type, target_id, reason, note or "")
    except delib.DeliberationError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify(
        {"id": r.id, "target_type": r.target_type, "target_id": r.target_id, "reason": r.reason}
    ), 201


def _community(code: str):
    c = community_by_code(code)
    if c is None:
        raise ApiError(404, "not_found", "No community has this code.")
    return c


@bp.get("/communities/<code>/moderation-queue")
@login_required
def moderation_queue(code: str):
    community = _community(code)
    if not delib.can_moderate(current_user, community.id):
        raise ApiError(403, "forbidden", "Only this community's committee moderates it.")
    limit = limit_arg()
    after = None
    raw = cursor_arg()
    if raw is not None:
        after = delib.parse_queue_cursor(raw)
        if after is None:
            raise ApiError(
                400,
                "invalid_cursor",
                "The cursor is not valid.",
                {"cursor": "Use the next link of a previous page."},
            )
    items = delib.queue(community, limit + 1, after)
    next_url = None
    if len(items) > limit:
        items = items[:limit]
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for(
            "api.moderation_queue",
            code=code,
            **args,
            cursor=encode_cursor(delib.queue_cursor(items[-1])),
        )
    return jsonify(
        {
            "items": [
                {
                    "target_type": i["target_type"],
                    "target_id": i["target_id"],
                    "reports": i["reports"],
                    "first_report_at": iso(i["first_report_at"]),
                    "hidden": i["object"].hidden,
                    "hidden_automatically": i["object"].hidden_auto,
                }
                for i in items
            ],
            "next": next_url,
        }
    )


@bp.post("/moderation/actions")
@login_required
def moderation_action():
    user = require_user()
    data = body()
    action, target_type, target_id = (
        data.get("action"),
        data.get("target_type"),
        data.get("target_id"),
    )
    if (
        action not in ("hide", "restore", "dismiss", "lock", "unlock", "block", "unblock")
        or target_type not in ("proposal", "comment")
        or not isinstance(target_id, int)
        or isinstance(target_id, bool)
    ):
        raise ApiError(
            400,
            "validation_failed",
            "Some fields are not valid.",
            {
                "action": "hide|restore|dismiss|lock|unlock|block|unblock; target_type "
                "proposal|comment; target_id a number"
            },
        )
    until = data.get("until")
    if until is not None:
        try:
            until = datetime.fromisoformat(str(until).replace("Z", "+00:00"))
            if until.tzinfo is None:
                raise ValueError
        except ValueError:
            raise ApiError(
                400,
                "validation_failed",
                "until is an ISO 8601 date-time.",
                {"until": "An ISO 8601 date-time with a time zone."},
            ) from None
    note, reason = data.get("note"), data.get("reason_code")
    if (note is not None and not isinstance(note, str)) or (
        reason is not None and not isinstance(reason, str)
    ):
        raise ApiError(
            400, "validation_failed", "note and reason_code are text.", {"note": "Text."}
        )
    try:
        entry = delib.moderate(
            user, action, target_type, target_id, reason_code=reason, note=note, until=until
        )
    except delib.DeliberationError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify(_log_entry(entry)), 201


def _log_entry(e: ModerationAction) -> dict:
    return {
        "id": e.id,
        "at": iso(e.created_at),
        "action": e.action,
        "automatic": e.automatic,
        "reason_code": e.reason_code,
        "note": e.note,
        "actor_role": e.actor_role,
        "target_type": e.target_type,
        # A block names no one in the public log: the participant's id stays out, as on the
        # log's page ("a participant").
        "target_id": None if e.target_type == "user" else e.target_id,
    }


@bp.get("/communities/<code>/moderation-log")
@public
def moderation_log(code: str):
    community = _community(code)
    stmt = db.select(ModerationAction).where(ModerationAction.community_id == community.id)
    rows, next_url = keyset(stmt, ModerationAction.id, descending=True)
    return jsonify({"items": [_log_entry(e) for e in rows], "next": next_url})


@bp.post("/appeals")
@login_required
def create_appeal():
    user = require_user()
    data = body()
    action_id, note = data.get("action_id"), data.get("note")
    if (
        not isinstance(action_id, int)
        or isinstance(action_id, bool)
        or not isinstance(note, str)
        or len(note) > 1000
    ):
        raise ApiError(
            400,
            "validation_failed",
            "action_id is a number, note text ≤ 1000.",
            {"note": "Say why the decision should change."},
        )
    action = db.session.get(ModerationAction, action_id)
    if action is None:
        raise ApiError(404, "not_found", "No such moderation action.")
    try:
        a = delib.appeal(user, action, note)
    except delib.DeliberationError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify(_appeal(a)), 201


def _appeal(a: Appeal) -> dict:
    return {
        "id": a.id,
        "action_id": a.action_id,
        "status": a.status,
        "decider_role": a.decider_role,
        "created_at": iso(a.created_at),
        "decision_note": a.decision_note,
        "url": url_for("deliberation.appeals_page"),
    }


@bp.post("/appeals/<int:appeal_id>/decision")
@login_required
def appeal_decision(appeal_id: int):
    user = require_user()
    a = db.session.get(Appeal, appeal_id)
    if a is None:
        raise ApiError(404, "not_found", "No such appeal.")
    data = body()
    decision, note = data.get("decision"), data.get("note")
    if decision not in ("uphold", "reverse") or not isinstance(note, str) or len(note) > 1000:
        raise ApiError(
            400,
            "validation_failed",
            "decision uphold|reverse and a note.",
            {"decision": "uphold or reverse, with a note (≤ 1000)"},
        )
    try:
        delib.decide_appeal(user, a, decision, note)
    except delib.DeliberationError as err:
        raise _error(err) from None
    db.session.commit()
    return jsonify(_appeal(a))
