"""What the vote operations of the API accept (see ``portal.api.schemas``)."""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from portal.core.validation import ABSENT, WHOLE, Body, Id, Instant, text
from portal.votes.models import MAX_OPTIONS, MIN_OPTIONS, VoteKind

# The one kind besides a list of options, spelled as the enum spells it (checked on import).
assert VoteKind.for_against_abstain.value == "for-against-abstain"


class NewVote(Body):
    """Either ``options`` (two to six labels) or ``kind: "for-against-abstain"`` (the three
    options 赞成 / 反对 / 弃权, shown translated)."""

    model_config = Body.model_config | {
        "json_schema_extra": {"anyOf": [{"required": ["options"]}, {"required": ["kind"]}]}
    }

    question: Annotated[str, text(300, required=True)]
    options: Annotated[
        list[Annotated[str, text(100, required=True)]],
        Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS),
    ] = ABSENT
    kind: Literal["for-against-abstain"] = ABSENT
    opens_at: Instant
    closes_at: Instant
    quorum_percent: Annotated[int, Field(ge=1, le=100), WHOLE] | None = Field(
        default=None, description="Share of the confirmed residents who must vote, in percent"
    )

    @model_validator(mode="after")
    def _one_way(self):
        if (self.options is None) == (self.kind is None):
            raise ValueError('Send options (two to six labels) or kind: "for-against-abstain".')
        return self


class BallotChoice(Body):
    option: Id = Field(description="The id of one of the vote's options")
