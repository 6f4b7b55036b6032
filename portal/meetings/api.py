"""Meeting endpoints of the JSON API. Votes on agenda items are added beside these by the
votes feature (an item's ``votes`` member, the vote endpoints)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, jsonify
from flask_login import current_user
from sqlalchemy import select

from portal.core.api import ApiError, bp, iso, require_user
from portal.core.guards import login_required, public
from portal.core.validation import accepts
from portal.extensions import db
from portal.meetings import schemas as S
from portal.meetings import services as meetings
from portal.meetings.models import AgendaItem, Invitation, Meeting
from portal.places.services import community_by_code
from portal.roles import permissions
from portal.roles.models import Agency


def _meeting_item(m: Meeting) -> dict:
    return {
        "id": m.id,
        "community_code": m.community.code,
        "title": m.title,
        "description": m.description,
        "starts_at": iso(m.starts_at),
        "ends_at": iso(m.ends_at),
        "location": m.location,
        "online_url": m.online_url or None,
        "capacity": m.capacity,
        "state": m.state,
        "status": meetings.state_key(m),
        "cancel_reason": m.cancel_reason,
        "published_at": iso(m.published_at),
        "cancelled_at": iso(m.cancelled_at),
        "held_at": iso(m.held_at),
    }


def _answer(inv: Invitation) -> dict | None:
    a = inv.answer
    if a is None or a.state != "published":
        return None
    return {
        "body": a.body,
        "attendee_role": a.attendee_role or None,
        "commitments": [{"text": c.text, "due_on": c.due_on.isoformat()} for c in a.commitments],
        "published_at": iso(a.published_at),
    }


def _invitation(inv: Invitation) -> dict:
    return {
        "id": inv.id,
        "item_id": inv.item_id,
        "agency": {
            "code": inv.agency.code,
            "name": inv.agency.name_zh,
            "name_en": inv.agency.name_en,
        },
        "due_at": iso(inv.due_at),
        "status": meetings.invitation_status(inv),
        "answered_at": iso(inv.answered_at),
        "answer": _answer(inv),
    }


def _subject(item: AgendaItem) -> dict:
    return {
        "kind": item.kind,
        "proposal_id": item.proposal_id,
        "case_number": item.case.number if item.kind == "case" and item.case else None,
        "topic": item.topic,
        "title": meetings.item_title(item),
    }


ITEM_EXTRAS = "meetings.item_extras"


def add_item_extra(app, extra: Callable[[AgendaItem, Any], dict]) -> None:
    """Let a feature built on meetings add its part of an agenda item to the meeting's JSON
    (the votes add ``votes``): connected in ``create_app``, kept with the app."""
    app.extensions.setdefault(ITEM_EXTRAS, []).append(extra)


def _extras(item: AgendaItem, user) -> dict:
    out: dict = {}
    for part_of in current_app.extensions.get(ITEM_EXTRAS, ()):
        out.update(part_of(item, user))
    return out


def _detail(m: Meeting) -> dict:
    user = current_user
    data = _meeting_item(m)
    items = []
    for v in meetings.item_views(m, user):
        d = v.decision
        items.append(
            {
                "id": v.item.id,
                "position": v.item.position,
                **_subject(v.item),
                "note": v.item.note,
                "invitations": [_invitation(inv) for inv in v.invitations],
                "questions": [
                    {
                        "id": q.id,
                        "body": q.body if meetings.can_read_question(user, q) else None,
                        "hidden": q.hidden,
                        "created_at": iso(q.created_at),
                        "answered": q.answered_at is not None,
                    }
                    for q in v.questions
                ],
                "decision": None
                if d is None
                else {"decision": d.outcome, "note": d.note, "decided_at": iso(d.created_at)},
                **_extras(v.item, user),
            }
        )
    data["items"] = items
    data["registration"] = meetings.counts(m)
    mine = meetings.registration_of(user, m)
    if user.is_authenticated:
        data["my_registration"] = (
            None
            if mine is None
            else {"state": mine.state, "waitlist_position": mine.waitlist_position}
        )
    data["minutes"] = m.minutes
    return data


def _load(meeting_id: int) -> Meeting:
    m = db.session.get(Meeting, meeting_id)
    if m is None or not meetings.can_see(current_user, m):
        raise ApiError("not_found", "No meeting has this id.", status=404)
    return m


def _item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or not meetings.can_see(current_user, item.meeting):
        raise ApiError("not_found", "No agenda item has this id.", status=404)
    return item


def _community(code: str | None, field: str):
    community = community_by_code(code) if code else None
    if community is None:
        raise ApiError(
            "invalid_parameter" if field == "community" else "validation_failed",
            "Unknown community.",
            status=400,
            fields={field: "Use a community code."},
        )
    return community


@bp.get("/meetings")
@public
@accepts(query=S.MeetingsQuery)
def meetings_list(params: S.MeetingsQuery):
    community = _community(params.community, "community") if params.community else None
    rows = meetings.meetings_between(community, params.from_, params.to)
    return jsonify({"items": [_meeting_item(m) for m in rows], "next": None})


@bp.post("/meetings")
@login_required
@accepts(body=S.NewMeeting)
def create_meeting(data: S.NewMeeting):
    user = require_user()
    community = _community(data.community_code, "community_code")
    m = meetings.create_meeting(
        user,
        community,
        meetings.Details(
            data.title,
            data.description,
            data.starts_at,
            data.ends_at,
            data.location,
            data.online_url,
            data.capacity,
        ),
    )
    return jsonify(_detail(m)), 201


@bp.get("/meetings/<id:meeting_id>")
@public
def meeting(meeting_id: int):
    return jsonify(_detail(_load(meeting_id)))


@bp.patch("/meetings/<id:meeting_id>")
@login_required
@accepts(body=S.MeetingChange)
def update_meeting(meeting_id: int, data: S.MeetingChange):
    user = require_user()
    m = _load(meeting_id)
    given = data.model_fields_set
    details = meetings.Details(
        data.title if "title" in given else m.title,
        data.description if "description" in given else m.description,
        data.starts_at if "starts_at" in given else m.starts_at,
        data.ends_at if "ends_at" in given else m.ends_at,
        data.location if "location" in given else m.location,
        data.online_url if "online_url" in given else m.online_url,
        data.capacity if "capacity" in given else m.capacity,
    )
    meetings.update_meeting(user, m, details)
    if "item_order" in given:
        meetings.reorder(user, m, list(data.item_order))
    return jsonify(_detail(m))


@bp.post("/meetings/<id:meeting_id>/publish")
@login_required
def publish_meeting(meeting_id: int):
    m = _load(meeting_id)
    meetings.publish(require_user(), m)
    return jsonify(_detail(m))


@bp.post("/meetings/<id:meeting_id>/cancel")
@login_required
@accepts(body=S.Cancellation)
def cancel_meeting(meeting_id: int, data: S.Cancellation):
    m = _load(meeting_id)
    meetings.cancel(require_user(), m, data.reason)
    return jsonify(_detail(m))


@bp.post("/meetings/<id:meeting_id>/minutes")
@login_required
@accepts(body=S.Minutes)
def meeting_minutes(meeting_id: int, data: S.Minutes):
    m = _load(meeting_id)
    meetings.publish_minutes(
        require_user(),
        m,
        data.body,
        [meetings.DecisionIn(d.item_id, d.decision, d.note) for d in data.decisions],
    )
    return jsonify(_detail(m))


@bp.post("/meetings/<id:meeting_id>/items")
@login_required
@accepts(body=S.NewItem)
def add_agenda_item(meeting_id: int, data: S.NewItem):
    m = _load(meeting_id)
    item = meetings.add_item(
        require_user(),
        m,
        proposal_id=data.proposal_id,
        case_number=data.case_number,
        topic=data.topic,
        note=data.note,
    )
    return jsonify(
        {"id": item.id, "position": item.position, **_subject(item), "note": item.note}
    ), 201


@bp.post("/agenda-items/<id:item_id>/invitations")
@login_required
@accepts(body=S.NewInvitation)
def invite_agency(item_id: int, data: S.NewInvitation):
    item = _item(item_id)
    agency = db.session.scalar(select(Agency).where(Agency.code == data.agency_code))
    if agency is None:
        raise ApiError(
            "validation_failed",
            "No agency has this code.",
            status=400,
            fields={"agency_code": "Use a code from /api/v1/agencies."},
        )
    inv = meetings.invite(require_user(), item, agency, data.due_at)
    return jsonify(_invitation(inv)), 201


@bp.get("/agencies/<code>/invitations")
@login_required
@accepts(query=S.InvitationsQuery)
def agency_invitations(code: str, params: S.InvitationsQuery):
    user = require_user()
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise ApiError("not_found", "No agency has this code.", status=404)
    if not permissions.is_liaison(user, agency):
        raise ApiError("forbidden", "Only the agency's liaisons see its invitations.", status=403)
    rows = meetings.agency_invitations(agency, params.status)
    return jsonify(
        {
            "items": [
                {
                    **_invitation(inv),
                    "meeting": _meeting_item(inv.item.meeting),
                    "item": _subject(inv.item),
                    "draft": inv.answer is not None and inv.answer.state == "draft",
                }
                for inv in rows
            ],
            "next": None,
        }
    )


@bp.post("/invitations/<id:invitation_id>/answer")
@login_required
@accepts(body=S.AnswerBody)
def answer_invitation(invitation_id: int, data: S.AnswerBody):
    user = require_user()
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.item.meeting.state == "draft":
        raise ApiError("not_found", "No invitation has this id.", status=404)
    a = meetings.save_answer(
        user,
        inv,
        body=data.body,
        commitments=[meetings.CommitmentIn(c.text, c.due_on) for c in data.commitments],
        attendee_role=data.attendee_role,
        publish=data.publish,
    )
    return jsonify(
        {
            **_invitation(inv),
            "state": a.state,
            "body": a.body,
            "commitments": [
                {"text": c.text, "due_on": c.due_on.isoformat()} for c in a.commitments
            ],
            "attendee_role": a.attendee_role or None,
        }
    )


@bp.post("/meetings/<id:meeting_id>/registration")
@login_required
def register(meeting_id: int):
    m = _load(meeting_id)
    r = meetings.register(require_user(), m)
    return jsonify(
        {
            "state": r.state,
            "waitlist_position": r.waitlist_position,
            "registration": meetings.counts(m),
        }
    ), 201


@bp.delete("/meetings/<id:meeting_id>/registration")
@login_required
def unregister(meeting_id: int):
    m = _load(meeting_id)
    meetings.cancel_registration(require_user(), m)
    return "", 204


@bp.post("/agenda-items/<id:item_id>/questions")
@login_required
@accepts(body=S.NewQuestion)
def ask_question(item_id: int, data: S.NewQuestion):
    item = _item(item_id)
    q = meetings.ask(require_user(), item, data.body)
    return jsonify(
        {"id": q.id, "item_id": q.item_id, "body": q.body, "created_at": iso(q.created_at)}
    ), 201
