"""Putting an item to a vote, opening it (the electors frozen) and finalising it, each exactly
once however many readers arrive at the same moment (conditional UPDATEs on the vote's row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from flask import url_for
from sqlalchemy import Table, delete, exists, false, func, literal, select, update

from portal.accounts.models import User
from portal.audit.services import record
from portal.core import clock
from portal.core.database import rowcount
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.meetings.models import AgendaItem, MeetingState
from portal.notifications.services import notify
from portal.residency.models import ResidencyRequest, ResidencyStatus
from portal.roles import permissions
from portal.votes import signals
from portal.votes.models import (
    FIXED_KEYS,
    MAX_OPTIONS,
    MIN_OPTIONS,
    Ballot,
    Elector,
    Vote,
    VoteKind,
    VoteOption,
    VoteState,
)
from portal.votes.services._common import PAST_TOLERANCE, VoteError

# The fixed options' stored labels (shown translated through their ``key``).
FIXED_LABELS = {"for": "赞成", "against": "反对", "abstain": "弃权"}


def can_put_to_vote(user, item: AgendaItem) -> bool:
    """The committee of the meeting's community, while the meeting is not cancelled."""
    return permissions.is_committee(user, item.meeting.community)


def _invalid(field: str, message: str) -> VoteError:
    return VoteError("validation_failed", message, status=400, field=field)


def put_to_vote(
    actor: User,
    item: AgendaItem,
    *,
    question: str,
    options: Sequence[str] | None,
    kind: str,
    opens_at: datetime,
    closes_at: datetime,
    quorum_percent: int | None,
) -> Vote:
    if not can_put_to_vote(actor, item):
        raise VoteError(
            "forbidden",
            _("Only the committee of this community can put an item to a vote."),
            status=403,
        )
    meeting = item.meeting
    if meeting.state == MeetingState.cancelled:
        raise VoteError("meeting_cancelled", _("This meeting is cancelled."))
    question = (question or "").strip()
    if not question:
        raise _invalid("question", _("Write the question put to the vote."))
    if kind == VoteKind.for_against_abstain:
        if options:
            raise _invalid("options", _("Give options, or choose for / against / abstain."))
        labels = [FIXED_LABELS[k] for k in FIXED_KEYS]
        keys: list[str | None] = list(FIXED_KEYS)
    elif kind == VoteKind.options:
        labels = [o.strip() for o in options or () if o and o.strip()]
        if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
            raise _invalid("options", _("Give two to six options."))
        if len({label.casefold() for label in labels}) != len(labels):
            raise _invalid("options", _("Each option must be different."))
        if any(len(label) > 100 for label in labels):
            raise _invalid("options", _("An option may be at most 100 characters long."))
        keys = [None] * len(labels)
    else:
        raise _invalid("kind", _("Choose the kind of vote."))
    now = clock.now()
    if opens_at < now - PAST_TOLERANCE:
        raise _invalid("opens_at", _("The vote cannot open in the past."))
    if closes_at <= opens_at:
        raise _invalid("closes_at", _("The vote must close after it opens."))
    if quorum_percent is not None and not 1 <= quorum_percent <= 100:
        raise _invalid("quorum_percent", _("The quorum is a percentage from 1 to 100."))
    vote = Vote(
        item_id=item.id,
        community_id=meeting.community_id,
        question=question,
        kind=kind,
        opens_at=opens_at,
        closes_at=closes_at,
        quorum_percent=quorum_percent,
        created_by_id=actor.id,
        options=[
            VoteOption(position=i, label=label, key=key)
            for i, (label, key) in enumerate(zip(labels, keys, strict=True), start=1)
        ],
    )
    db.session.add(vote)
    db.session.flush()
    record(
        actor,
        "vote.create",
        vote,
        item_id=item.id,
        meeting_id=meeting.id,
        kind=kind,
        options=len(labels),
        opens_at=opens_at.isoformat(),
        closes_at=closes_at.isoformat(),
        quorum_percent=quorum_percent,
    )
    settle(vote)
    return vote


def _electors(vote: Vote):
    """The residents who may vote: confirmed residents of the community now, but those whose
    residency there was confirmed after the vote opened (its ``decided_at``; both ways of
    joining, a decided request and an invitation code, write a confirmed request). Exact
    however late after ``opens_at`` the vote is actually opened (by a read or the sweep)."""
    users, requests = cast(Table, User.__table__), cast(Table, ResidencyRequest.__table__)
    joined_late = exists().where(
        requests.c.user_id == users.c.id,
        requests.c.community_id == vote.community_id,
        requests.c.status == ResidencyStatus.confirmed.value,
        requests.c.decided_at > vote.opens_at,
    )
    return select(literal(vote.id, Elector.__table__.c.vote_id.type), users.c.id, false()).where(
        users.c.community_id == vote.community_id, ~joined_late
    )


def _open(vote: Vote, now: datetime) -> bool:
    """Open a scheduled vote whose time came, once: freeze its electors and tell them."""
    opened = rowcount(
        db.session.execute(
            update(Vote)
            .where(Vote.id == vote.id, Vote.state == VoteState.scheduled, Vote.opens_at <= now)
            .values(state=VoteState.open, opened_at=now, eligible_count=0)
            .execution_options(synchronize_session=False)
        )
    )
    if not opened:
        db.session.refresh(vote)
        return False
    electors = cast(Table, Elector.__table__)
    db.session.execute(
        electors.insert().from_select(["vote_id", "user_id", "voted"], _electors(vote))
    )
    count = db.session.scalar(
        select(func.count()).select_from(electors).where(electors.c.vote_id == vote.id)
    )
    db.session.execute(
        update(Vote)
        .where(Vote.id == vote.id)
        .values(eligible_count=count)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(vote)
    _tell(vote, "vote_opened")
    signals.vote_opened.send(vote)
    return True


def _close(vote: Vote, now: datetime) -> bool:
    """Finalise an open vote whose time passed, once: count the ballots into the options'
    totals, publish turnout and quorum, delete every ballot, tell the electors.

    The first UPDATE takes the vote's row lock; a ballot holds a share lock on that row from
    its check to its commit (``ballots.cast``), so every ballot stored is counted here and
    none arrives after: the statements below see them all (a new snapshot each)."""
    closed = rowcount(
        db.session.execute(
            update(Vote)
            .where(Vote.id == vote.id, Vote.state == VoteState.open, Vote.closes_at <= now)
            .values(
                state=VoteState.closed,
                closed_at=now,
                turnout=0,
                quorum_met=None if vote.quorum_percent is None else False,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if not closed:
        db.session.refresh(vote)
        return False
    ballots = cast(Table, Ballot.__table__)
    counts: dict[int, int] = dict(
        db.session.execute(
            select(ballots.c.option_id, func.count())
            .where(ballots.c.vote_id == vote.id)
            .group_by(ballots.c.option_id)
        ).all()
    )
    for option in vote.options:
        db.session.execute(
            update(VoteOption)
            .where(VoteOption.id == option.id)
            .values(total=counts.get(option.id, 0))
            .execution_options(synchronize_session=False)
        )
    turnout = sum(counts.values())
    db.session.execute(delete(ballots).where(ballots.c.vote_id == vote.id))
    eligible = vote.eligible_count or 0
    quorum_met = (
        None if vote.quorum_percent is None else turnout * 100 >= vote.quorum_percent * eligible
    )
    db.session.execute(
        update(Vote)
        .where(Vote.id == vote.id)
        .values(turnout=turnout, quorum_met=quorum_met)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(vote)
    for option in vote.options:
        db.session.refresh(option)
    _tell(vote, "vote_closed")
    signals.vote_closed.send(vote)
    return True


def _tell(vote: Vote, kind: str) -> None:
    electors = db.session.scalars(select(Elector.user_id).where(Elector.vote_id == vote.id)).all()
    if electors:
        notify(
            electors,
            kind,
            vote,
            url=url_for("votes.show", vote_id=vote.id),
            params={"question": vote.question},
        )


def settle(vote: Vote, now: datetime | None = None) -> Vote:
    """Bring the vote to the state its times say: open it when ``opens_at`` passed, finalise it
    when ``closes_at`` passed. Every read of a vote calls this first; the sweep too."""
    now = now or clock.now()
    if vote.state == VoteState.scheduled and vote.opens_at <= now:
        _open(vote, now)
    if vote.state == VoteState.open and vote.closes_at <= now:
        _close(vote, now)
    return vote


def due_votes(now: datetime | None = None) -> list[int]:
    """Ids of the votes whose opening or closing time passed without a read since."""
    now = now or clock.now()
    return list(
        db.session.scalars(
            select(Vote.id)
            .where(
                ((Vote.state == VoteState.scheduled) & (Vote.opens_at <= now))
                | ((Vote.state == VoteState.open) & (Vote.closes_at <= now))
            )
            .order_by(Vote.id)
        )
    )
