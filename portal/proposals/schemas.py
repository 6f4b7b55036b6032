"""What the proposal operations of the API accept (see ``portal.api.schemas``)."""

from typing import Annotated, Literal

from pydantic import Field

from portal.core.validation import Body, Id, Page, Query, text
from portal.proposals.listing import PUBLIC_STATUSES, SORTS
from portal.proposals.models import RejectReason
from portal.proposals.services.mine import MINE_STATUSES

# Each Literal[...] of values read from the enum or constant it mirrors (so the two cannot drift
# apart) carries a ``type: ignore[valid-type]``: pydantic takes it at run time, a type checker
# wants the values written out.

# --- proposals --------------------------------------------------------------------------------


class ProposalsQuery(Page):
    community: Annotated[str, text(40)] | None = None
    district: Annotated[str, text(40)] | None = None
    category: Annotated[str, text(40)] | None = None
    q: Annotated[str, text(200)] | None = None
    status: Literal[PUBLIC_STATUSES] | None = None  # type: ignore[valid-type]
    sort: Literal[SORTS] = "new"  # type: ignore[valid-type]


class MyProposalsQuery(Page):
    status: Literal[MINE_STATUSES] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="One state only (as the proposal's `status` says); every state when absent",
    )


class SimilarQuery(Query):
    community: Annotated[str, text(40)]
    q: Annotated[str, text(400, required=True)]


class LimitQuery(Query):
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class NewProposal(Body):
    title: Annotated[str, text(80, required=True)]
    summary: Annotated[str, text(300, required=True)]
    body: Annotated[str, text(6000, required=True)] = Field(description="Markdown")
    category: Annotated[str, text(40, required=True)]
    grid_code: Annotated[str, text(40)] = ""
    location_note: Annotated[str, text(200)] = ""
    submit: bool = False


class ProposalPatch(Body):
    """Only the members sent change."""

    title: Annotated[str, text(80, required=True)] | None = None
    summary: Annotated[str, text(300, required=True)] | None = None
    body: Annotated[str, text(6000, required=True)] | None = Field(
        default=None, description="Markdown"
    )
    category: Annotated[str, text(40, required=True)] | None = None
    grid_code: Annotated[str, text(40)] | None = None
    location_note: Annotated[str, text(200)] | None = None


class Withdraw(Body):
    reason: Annotated[str, text(500, required=True)]


class Review(Body):
    decision: Literal["approve", "request_changes", "reject"]
    reason_code: Literal[tuple(r.value for r in RejectReason)] | None = None  # type: ignore[valid-type]
    note: Annotated[str, text(1000)] | None = None
    duplicate_of: Id | None = None
