"""Vote rules: putting an agenda item to a vote, opening (electors frozen) and finalising
(ballots counted, then deleted) exactly once, secret ballots changeable while open.

The rules live in the modules of this package, one per use case; this module re-exports
their public names."""

from __future__ import annotations

from portal.votes.services._common import PAST_TOLERANCE, VoteError
from portal.votes.services.ballots import cast_ballot, has_voted, is_elector, my_ballot
from portal.votes.services.lifecycle import can_put_to_vote, due_votes, put_to_vote, settle
from portal.votes.services.reading import (
    can_see_meeting,
    community_votes,
    get_item,
    get_vote,
    item_title,
    item_votes,
    open_votes,
    option_label,
    share,
    state_label,
)

__all__ = [
    "PAST_TOLERANCE",
    "VoteError",
    "can_put_to_vote",
    "can_see_meeting",
    "cast_ballot",
    "community_votes",
    "due_votes",
    "get_item",
    "get_vote",
    "has_voted",
    "is_elector",
    "item_title",
    "item_votes",
    "my_ballot",
    "open_votes",
    "option_label",
    "put_to_vote",
    "settle",
    "share",
    "state_label",
]
