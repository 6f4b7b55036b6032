"""Deliberation and moderation endpoints of the JSON API."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_login import current_user

from portal.core.api import ApiError, bp, iso, require_user
from portal.core.guards import login_required, public
from portal.core.input import Key
from portal.core.limits import configured, user_key
from portal.core.pagination import cursor_arg, encode_cursor, keyset
from portal.core.urls import query_args
from portal.core.validation import accepts
from portal.deliberation import schemas as S
from portal.deliberation import services as delib
from portal.deliberation import targets
from portal.deliberation.models import Appeal, Comment, ModerationAction
from portal.extensions import db, limiter
from portal.places.services import community_by_code
from portal.proposals import services as proposals
from portal.proposals.models import Proposal

_comment_limit = configured("COMMENT_LIMIT")
_comment_ip_limit = configured("COMMENT_IP_LIMIT")
_report_limit = configured("REPORT_LIMIT")
_report_ip_limit = configured("REPORT_IP_LIMIT")


def _comment(c: Comment) -> dict:
    visible = not c.hidden and c.deleted_at is None
    return {
        "id": c.id,
        "proposal_id": c.proposal_id,
        "parent_id": c.parent_id,
        "stance": c.stance,
        "body_html": c.body_html if visible else None,
        "author": {"display_name": c.author.public_name} if visible else None,
        "badge": c.badge,
        "agency_code": c.badge_agency.code if c.badge_agency else None,
        "created_at": iso(c.created_at),
        "edited": c.edited_at is not None,
        "deleted": c.deleted_at is not None,
        "hidden": c.hidden,
        "hidden_automatically": c.hidden_auto,
        "hidden_reason": c.hidden_reason,
    }


def _my_comment(c: Comment) -> dict:
    """One of the caller's own comments, with the proposal it was written on (its title null
    where the caller may not read it, as in lists of cases)."""
    visible = not c.hidden and c.deleted_at is None
    return {
        "id": c.id,
        "proposal_id": c.proposal_id,
        "proposal_title": c.proposal.title
        if proposals.can_read(current_user, c.proposal)
        else None,
        "parent_id": c.parent_id,
        "stance": c.stance,
        "body_html": c.body_html if visible else None,
        "created_at": iso(c.created_at),
        "edited": c.edited_at is not None,
        "deleted": c.deleted_at is not None,
        "hidden": c.hidden,
        "hidden_automatically": c.hidden_auto,
        "hidden_reason": c.hidden_reason,
    }


@bp.get("/me/comments")
@login_required
@accepts(query=S.MyCommentsQuery)
def my_comments(params: S.MyCommentsQuery):
    user = require_user()
    rows, next_url = keyset(delib.my_comments(user), Comment.id, descending=True)
    return jsonify({"items": [_my_comment(c) for c in rows], "next": next_url})


def _proposal(proposal_id: int) -> Proposal:
    p = db.session.get(Proposal, proposal_id)
    if p is None or not proposals.can_read(current_user, p):
        raise ApiError("not_found", "No such proposal.", status=404)
    return p


@bp.get("/proposals/<id:proposal_id>/comments")
@public
@accepts(query=S.CommentsQuery)
def comments(proposal_id: int, params: S.CommentsQuery):
    p = _proposal(proposal_id)
    stance = params.stance
    stmt = db.select(Comment).where(Comment.proposal_id == p.id)
    if stance:
        stmt = stmt.where(Comment.stance == stance)
    rows, next_url = keyset(stmt, Comment.id)
    return jsonify(
        {"items": [_comment(c) for c in rows], "next": next_url, "counts": delib.stance_counts(p)}
    )


@bp.post("/proposals/<id:proposal_id>/comments")
@login_required
@limiter.shared_limit(_comment_limit, "comment", key_func=user_key)
@limiter.shared_limit(_comment_ip_limit, "comment-ip")
@accepts(body=S.NewComment)
def create_comment(proposal_id: int, data: S.NewComment):
    user = require_user()
    p = _proposal(proposal_id)
    text, stance, parent_id = data.body, data.stance, data.parent_id
    parent = None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None:
            raise ApiError(
                "validation_failed",
                "Unknown parent comment.",
                status=400,
                fields={"parent_id": "Reply to a comment of this proposal."},
            )
    c = delib.add_comment(user, p, text, stance, parent)
    return jsonify(_comment(c)), 201


def _own(comment_id: int) -> Comment:
    c = db.session.get(Comment, comment_id)
    if c is None:
        raise ApiError("not_found", "No such comment.", status=404)
    return c


@bp.patch("/comments/<id:comment_id>")
@login_required
@limiter.shared_limit(_comment_limit, "comment", key_func=user_key)  # as writing one
@limiter.shared_limit(_comment_ip_limit, "comment-ip")
@accepts(body=S.CommentPatch)
def patch_comment(comment_id: int, data: S.CommentPatch):
    user = require_user()
    c = _own(comment_id)
    text = data.body
    delib.edit_comment(user, c, text)
    return jsonify(_comment(c))


@bp.delete("/comments/<id:comment_id>")
@login_required
def remove_comment(comment_id: int):
    user = require_user()
    c = _own(comment_id)
    delib.delete_comment(user, c)
    return "", 204


@bp.post("/reports")
@login_required
@limiter.shared_limit(_report_limit, "report", key_func=user_key)
@limiter.shared_limit(_report_ip_limit, "report-ip")
@accepts(body=S.NewReport)
def create_report(data: S.NewReport):
    user = require_user()
    target_type, target_id = data.target_type, data.target_id
    reason, note = data.reason, data.note
    r = delib.report(user, target_type, target_id, reason, note or "")
    return jsonify(
        {"id": r.id, "target_type": r.target_type, "target_id": r.target_id, "reason": r.reason}
    ), 201


def _community(code: str):
    c = community_by_code(code)
    if c is None:
        raise ApiError("not_found", "No community has this code.", status=404)
    return c


@bp.get("/communities/<code>/moderation-queue")
@login_required
@accepts(query=S.Page)
def moderation_queue(code: str, params: S.Page):
    community = _community(code)
    if not delib.can_moderate(current_user, community.id):
        raise ApiError("forbidden", "Only this community's committee moderates it.", status=403)
    limit = params.limit
    after = None
    raw = cursor_arg(Key.instant, Key.one_of(*targets.names()), Key.id)
    if raw is not None:
        after = tuple(raw)
    items = delib.queue(community, limit + 1, after)
    next_url = None
    if len(items) > limit:
        items = items[:limit]
        args: dict[str, Any] = query_args("cursor")
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
@accepts(body=S.ModerationRequest)
def moderation_action(data: S.ModerationRequest):
    user = require_user()
    action, target_type, target_id = data.action, data.target_type, data.target_id
    until, note, reason = data.until, data.note, data.reason_code
    entry = delib.moderate(
        user, action, target_type, target_id, reason_code=reason, note=note, until=until
    )
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
@accepts(query=S.Page)
def moderation_log(code: str, params: S.Page):
    community = _community(code)
    stmt = db.select(ModerationAction).where(ModerationAction.community_id == community.id)
    rows, next_url = keyset(stmt, ModerationAction.id, descending=True)
    return jsonify({"items": [_log_entry(e) for e in rows], "next": next_url})


@bp.post("/appeals")
@login_required
@accepts(body=S.NewAppeal)
def create_appeal(data: S.NewAppeal):
    user = require_user()
    action_id, note = data.action_id, data.note
    action = db.session.get(ModerationAction, action_id)
    if action is None:
        raise ApiError("not_found", "No such moderation action.", status=404)
    a = delib.appeal(user, action, note)
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


@bp.post("/appeals/<id:appeal_id>/decision")
@login_required
@accepts(body=S.AppealDecision)
def appeal_decision(appeal_id: int, data: S.AppealDecision):
    user = require_user()
    a = db.session.get(Appeal, appeal_id)
    if a is None:
        raise ApiError("not_found", "No such appeal.", status=404)
    decision, note = data.decision, data.note
    delib.decide_appeal(user, a, decision, note)
    return jsonify(_appeal(a))
