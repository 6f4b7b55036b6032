"""Vote endpoints of the JSON API."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from portal.core.api import bp, iso, require_user
from portal.core.guards import login_required, public
from portal.core.validation import accepts
from portal.votes import schemas as S
from portal.votes import services as votes
from portal.votes.limits import ballot_limits
from portal.votes.models import Vote, VoteKind, VoteState


def vote_json(vote: Vote, user) -> dict:
    """A vote as the API shows it: ``totals`` only once closed; the caller's own ballot only
    to the caller and only while open; after closing only whether the caller voted."""
    closed = vote.state == VoteState.closed
    signed_in = getattr(user, "is_authenticated", False)
    eligible = votes.is_elector(user, vote) if signed_in and vote.state != "scheduled" else None
    return {
        "id": vote.id,
        "item_id": vote.item_id,
        "meeting_id": vote.item.meeting_id,
        "community_code": vote.item.meeting.community.code,
        "question": vote.question,
        "kind": vote.kind,
        "options": [
            {"id": o.id, "label": votes.option_label(o), "key": o.key} for o in vote.options
        ],
        "state": vote.state,
        "opens_at": iso(vote.opens_at),
        "closes_at": iso(vote.closes_at),
        "opened_at": iso(vote.opened_at),
        "closed_at": iso(vote.closed_at),
        "quorum_percent": vote.quorum_percent,
        "eligible_count": vote.eligible_count,
        "totals": [{"option": o.id, "count": o.total or 0} for o in vote.options]
        if closed
        else None,
        "turnout": vote.turnout if closed else None,
        "quorum_met": vote.quorum_met if closed else None,
        "eligible": eligible,
        "my_ballot": votes.my_ballot(user, vote) if signed_in else None,
        "voted": votes.has_voted(user, vote) if signed_in else None,
    }


@bp.post("/agenda-items/<id:item_id>/vote")
@login_required
@accepts(body=S.NewVote)
def create_vote(item_id: int, data: S.NewVote):
    user = require_user()
    item = votes.get_item(item_id, user)
    vote = votes.put_to_vote(
        user,
        item,
        question=data.question,
        options=data.options,
        kind=data.kind or VoteKind.options.value,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        quorum_percent=data.quorum_percent,
    )
    return jsonify(vote_json(vote, user)), 201


@bp.get("/votes/<id:vote_id>")
@public
def vote(vote_id: int):
    return jsonify(vote_json(votes.get_vote(vote_id, current_user), current_user))


@bp.put("/votes/<id:vote_id>/ballot")
@login_required
@ballot_limits
@accepts(body=S.BallotChoice)
def cast_ballot(vote_id: int, data: S.BallotChoice):
    user = require_user()
    vote = votes.get_vote(vote_id, user, settled=False)
    votes.cast_ballot(user, vote, data.option)
    return jsonify(vote_json(vote, user)), 200
