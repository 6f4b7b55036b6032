"""Votes (表决) on an agenda item: the question and its options, the eligible residents frozen
at opening, and the secret ballots while the vote is open.

Secrecy is in the shape of the tables. A ballot (``vote_ballots``) is the only row that links a
person to an option; it has no id of its own and no timestamp, and finalising deletes every
ballot of the vote after moving the counts into ``vote_options.total``. What stays of a voter
is ``vote_electors.voted``: a flag on the row written when the vote opened (no option, no
timestamp, no id of its own), so neither ids nor times can be joined to a choice afterwards."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


class VoteState(enum.StrEnum):
    scheduled = "scheduled"  # opens at ``opens_at``
    open = "open"
    closed = "closed"  # finalised: totals published, ballots gone


class VoteKind(enum.StrEnum):
    options = "options"  # two to six labels of the committee's
    for_against_abstain = "for-against-abstain"


# The fixed options of a for/against/abstain vote, shown translated (``key``).
FIXED_KEYS = ("for", "against", "abstain")
MIN_OPTIONS, MAX_OPTIONS = 2, 6


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Vote(Model):
    __tablename__ = "votes"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(s.value for s in VoteState)})", name="state"),
        CheckConstraint(f"kind IN ({_in(k.value for k in VoteKind)})", name="kind"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint(
            "quorum_percent IS NULL OR (quorum_percent >= 1 AND quorum_percent <= 100)",
            name="quorum_percent",
        ),
        CheckConstraint(
            "(state = 'scheduled') = (opened_at IS NULL AND eligible_count IS NULL)",
            name="opening_is_stamped",
        ),
        CheckConstraint(
            "(state = 'closed') = (closed_at IS NOT NULL AND turnout IS NOT NULL)",
            name="closing_is_stamped",
        ),
        CheckConstraint(
            "state != 'closed' OR quorum_percent IS NULL OR quorum_met IS NOT NULL",
            name="quorum_is_told",
        ),
        Index("ix_votes_item", "item_id", "id"),
        Index("ix_votes_community", "community_id", "id"),
        Index("ix_votes_state_opens", "state", "opens_at"),
        Index("ix_votes_state_closes", "state", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    question: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(24), default=VoteKind.options.value)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    quorum_percent: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(10), default=VoteState.scheduled.value)
    # Frozen at opening: the residents who may vote (``vote_electors``), counted.
    eligible_count: Mapped[int | None]
    # Published at closing.
    turnout: Mapped[int | None]
    quorum_met: Mapped[bool | None]
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    item = relationship("AgendaItem", lazy="joined")
    community = relationship("Community", lazy="select")
    options: Mapped[list[VoteOption]] = relationship(
        back_populates="vote",
        order_by="VoteOption.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class VoteOption(Model):
    __tablename__ = "vote_options"
    __table_args__ = (
        UniqueConstraint("vote_id", "position", name="uq_vote_options_vote_position"),
        # The target of the ballots' (vote, option) key: an option of that very vote.
        UniqueConstraint("vote_id", "id", name="uq_vote_options_vote_id"),
        CheckConstraint("position >= 1 AND position <= 6", name="position"),
        CheckConstraint(f"key IS NULL OR key IN ({_in(FIXED_KEYS)})", name="key"),
        CheckConstraint("total IS NULL OR total >= 0", name="total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(100), default="")
    key: Mapped[str | None] = mapped_column(String(10))
    # Null until the vote closes.
    total: Mapped[int | None]

    vote: Mapped[Vote] = relationship(back_populates="options", lazy="select")


class Elector(Model):
    """One resident who may vote, frozen when the vote opened, and whether they voted. No id
    of its own and no timestamp: the row says nothing that could be joined to a ballot."""

    __tablename__ = "vote_electors"

    vote_id: Mapped[int] = mapped_column(
        ForeignKey("votes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    voted: Mapped[bool] = mapped_column(default=False)


class Ballot(Model):
    """A secret ballot while the vote is open: one per elector (the primary key), for an
    option of the same vote, changeable until closing, deleted when the vote is finalised."""

    __tablename__ = "vote_ballots"
    __table_args__ = (
        ForeignKeyConstraint(
            ["vote_id", "user_id"],
            ["vote_electors.vote_id", "vote_electors.user_id"],
            ondelete="CASCADE",
            name="fk_vote_ballots_elector",
        ),
        ForeignKeyConstraint(
            ["vote_id", "option_id"],
            ["vote_options.vote_id", "vote_options.id"],
            ondelete="CASCADE",
            name="fk_vote_ballots_option",
        ),
    )

    vote_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int]
