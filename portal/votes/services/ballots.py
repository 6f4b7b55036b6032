"""Casting and changing a secret ballot, and what a person may know of their own."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, update

from portal.accounts.models import User
from portal.accounts.phones import check_may_take_part
from portal.blocks.services import is_blocked
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.meetings.models import MeetingState
from portal.votes.models import Ballot, Elector, Vote, VoteState
from portal.votes.services._common import VoteError
from portal.votes.services.lifecycle import _open


def _upsert(table):
    """INSERT … ON CONFLICT on PostgreSQL and SQLite alike."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def is_elector(user, vote: Vote) -> bool:
    """In the list frozen at opening, and still a confirmed resident of the community."""
    if not getattr(user, "is_authenticated", False) or user.community_id != vote.community_id:
        return False
    return bool(
        db.session.scalar(
            select(Elector.voted.is_not(None)).where(
                Elector.vote_id == vote.id, Elector.user_id == user.id
            )
        )
    )


def has_voted(user, vote: Vote) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(
        db.session.scalar(
            select(Elector.voted).where(Elector.vote_id == vote.id, Elector.user_id == user.id)
        )
    )


def my_ballot(user, vote: Vote) -> int | None:
    """The option of the person's own ballot, while the vote is open (after, nobody's)."""
    if vote.state != VoteState.open or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Ballot.option_id).where(Ballot.vote_id == vote.id, Ballot.user_id == user.id)
    )


def _not_eligible(vote: Vote) -> VoteError:
    return VoteError(
        "not_eligible",
        _(
            "Only the residents confirmed in this community when the vote opened can take "
            "part in it."
        ),
        status=403,
    )


def cast_ballot(user: User, vote: Vote, option_id: int) -> int:
    """Store or change the person's ballot; returns the option. Only the voter ever reads it
    back (``my_ballot``), and only until the vote closes."""
    now = clock.now()
    if vote.item.meeting.state == MeetingState.cancelled:
        raise VoteError("meeting_cancelled", _("This meeting is cancelled."))
    if vote.state == VoteState.scheduled and vote.opens_at <= now:
        _open(vote, now)
    # The share lock on the vote's row, held until the commit: finalising (which updates the
    # row) waits for this ballot, and a ballot after it finds the vote closed.
    state = db.session.execute(
        select(Vote.state, Vote.closes_at).where(Vote.id == vote.id).with_for_update(read=True)
    ).one()
    if state.state == VoteState.scheduled:
        raise VoteError("vote_not_open", _("This vote is not open yet."))
    if state.state == VoteState.closed or state.closes_at <= now:
        raise VoteError("vote_closed", _("This vote has closed."))
    if user.community_id != vote.community_id or not is_elector(user, vote):
        raise _not_eligible(vote)
    # The rules every way of taking part asks: a verified number where the deployment signs
    # in by phone, and no block in the community.
    check_may_take_part(user)
    if is_blocked(user, vote.community_id):
        raise VoteError(
            "blocked", _("You are blocked from taking part in this community."), status=403
        )
    if option_id not in {o.id for o in vote.options}:
        raise VoteError(
            "validation_failed",
            _("Choose one of the vote's options."),
            status=400,
            field="option",
        )
    ballots = cast(Table, Ballot.__table__)
    stmt = _upsert(ballots).values(vote_id=vote.id, user_id=user.id, option_id=option_id)
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ballots.c.vote_id, ballots.c.user_id],
            set_={"option_id": stmt.excluded.option_id},
        )
    )
    db.session.execute(
        update(Elector)
        .where(Elector.vote_id == vote.id, Elector.user_id == user.id, Elector.voted.is_(False))
        .values(voted=True)
        .execution_options(synchronize_session=False)
    )
    return option_id
