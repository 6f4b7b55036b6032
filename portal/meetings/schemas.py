"""What the meeting operations of the API accept (see ``portal.api.schemas``)."""

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from portal.core.validation import ABSENT, WHOLE, Body, Id, Instant, Query, QueryInstant, text
from portal.meetings.models import DECISIONS


class MeetingsQuery(Query):
    community: Annotated[str, text(40)] | None = None
    from_: QueryInstant | None = Field(default=None, alias="from")
    to: QueryInstant | None = None


class NewMeeting(Body):
    community_code: Annotated[str, text(40, required=True)]
    title: Annotated[str, text(200, required=True)]
    description: Annotated[str, text(10000)] = ""
    starts_at: Instant
    ends_at: Instant
    location: Annotated[str, text(300)] = ""
    online_url: Annotated[str, text(500)] = ""
    capacity: Annotated[int, Field(ge=1, le=100000), WHOLE] | None = None


class MeetingChange(Body):
    """Only the members given change."""

    title: Annotated[str, text(200, required=True)] = ABSENT
    description: Annotated[str, text(10000)] = ABSENT
    starts_at: Instant = ABSENT
    ends_at: Instant = ABSENT
    location: Annotated[str, text(300)] = ABSENT
    online_url: Annotated[str, text(500)] = ABSENT
    capacity: Annotated[int, Field(ge=1, le=100000), WHOLE] | None = None
    item_order: list[Id] = ABSENT


class Cancellation(Body):
    reason: Annotated[str, text(2000, required=True)]


class DecisionBody(Body):
    item_id: Id
    decision: Literal[DECISIONS]  # type: ignore[valid-type]
    note: Annotated[str, text(2000)] = ""


class Minutes(Body):
    body: Annotated[str, text(50000, required=True)]
    decisions: Annotated[list[DecisionBody], Field(max_length=200)]


class NewItem(Body):
    proposal_id: Id | None = None
    case_number: Annotated[str, text(30)] | None = None
    topic: Annotated[str, text(200)] | None = None
    note: Annotated[str, text(2000)] = ""

    @model_validator(mode="after")
    def _one_subject(self):
        given = [v for v in (self.proposal_id, self.case_number, self.topic) if v not in (None, "")]
        if len(given) != 1:
            raise ValueError("Give exactly one of proposal_id, case_number or topic.")
        return self


class NewInvitation(Body):
    agency_code: Annotated[str, text(64, required=True)]
    due_at: Instant | None = None


class InvitationsQuery(Query):
    status: Literal["open", "all"] = "open"


class CommitmentBody(Body):
    text: Annotated[str, text(500, required=True)]
    due_on: Annotated[date, Field(strict=False)]


class AnswerBody(Body):
    body: Annotated[str, text(10000, required=True)]
    commitments: Annotated[list[CommitmentBody], Field(max_length=20)] = []
    attendee_role: Annotated[str, text(100)] | None = None
    publish: bool = False


class NewQuestion(Body):
    body: Annotated[str, text(1000, required=True)]
