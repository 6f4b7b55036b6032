"""Who may see a vote, the votes of an item and of a community, and a vote's words."""

from __future__ import annotations

from sqlalchemy import select

from portal.core import clock
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.extensions import db
from portal.meetings.models import AgendaItem, Meeting, MeetingState
from portal.roles import permissions
from portal.votes.models import Vote, VoteOption, VoteState
from portal.votes.services._common import VoteError
from portal.votes.services.lifecycle import settle

FIXED_NAMES = {"for": _l("For"), "against": _l("Against"), "abstain": _l("Abstain")}
STATE_NAMES = {
    VoteState.scheduled.value: _l("Not open yet"),
    VoteState.open.value: _l("Open for ballots"),
    VoteState.closed.value: _l("Closed: results published"),
}


def option_label(option: VoteOption) -> str:
    """The fixed options in the reader's language; the committee's as written."""
    return str(FIXED_NAMES[option.key]) if option.key else option.label


def state_label(vote: Vote) -> str:
    return str(STATE_NAMES[vote.state])


def can_see_meeting(user, meeting: Meeting) -> bool:
    """A draft meeting (and its votes) is the committee's; every other one is public."""
    return (
        meeting.state != MeetingState.draft
        or permissions.is_committee(user, meeting.community)
        or permissions.is_admin(user)
    )


def get_vote(vote_id: int, user, *, settled: bool = True) -> Vote:
    """The vote, brought to the state its times say (``settle``; not for a ballot, which
    opens the vote itself and must not finalise what its refusal would roll back), or 404."""
    vote = db.session.get(Vote, vote_id)
    if vote is None or not can_see_meeting(user, vote.item.meeting):
        raise VoteError("not_found", _("There is no such vote."), status=404)
    return settle(vote) if settled else vote


def get_item(item_id: int, user) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or not can_see_meeting(user, item.meeting):
        raise VoteError("not_found", _("There is no such agenda item."), status=404)
    return item


def item_title(item: AgendaItem) -> str:
    """What the item is about, in a few words (a proposal's title, a case's number, a topic)."""
    if item.kind == "proposal" and item.proposal is not None:
        return item.proposal.title
    if item.kind == "case" and item.case is not None:
        return _("Case %(number)s", number=item.case.number)
    return item.topic or ""


def item_votes(item: AgendaItem) -> list[Vote]:
    """The votes on an agenda item, oldest first, each settled."""
    votes = list(db.session.scalars(select(Vote).where(Vote.item_id == item.id).order_by(Vote.id)))
    return [settle(v) for v in votes]


def community_votes(community, user, limit: int = 100) -> list[Vote]:
    """The votes of a community the reader may see, newest first, each settled."""
    stmt = (
        select(Vote)
        .join(AgendaItem, AgendaItem.id == Vote.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Vote.community_id == community.id)
        .order_by(Vote.id.desc())
        .limit(limit)
    )
    if not (permissions.is_committee(user, community) or permissions.is_admin(user)):
        stmt = stmt.where(Meeting.state != MeetingState.draft)
    return [settle(v) for v in db.session.scalars(stmt)]


def open_votes(community, now=None):
    """The community's votes taking ballots now (by their times, whether or not a read has
    settled their state yet): the committee desk's count. ``now`` may be a bound parameter
    (the desks' statement is built once)."""
    now = clock.now() if now is None else now
    return select(Vote.id).where(
        Vote.community_id == community.id,
        Vote.state != VoteState.closed,
        Vote.opens_at <= now,
        Vote.closes_at > now,
    )


def share(part: int | None, whole: int | None) -> int | None:
    """A whole percentage, or None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return round(part * 100 / whole)
