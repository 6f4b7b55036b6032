"""What each API operation accepts: one pydantic model per request body and per query string.

These models are checked before the view runs (``portal.api.validation.accepts``) and are the
request side of the OpenAPI document (``portal.api.openapi``): change them, then run
``python tools/openapi.py`` to write the document.
"""

from typing import Annotated, Literal

from pydantic import EmailStr, Field, model_validator

from portal.api.validation import ABSENT, WHOLE, Body, Id, Instant, Page, Query, text
from portal.cases.models import CaseState
from portal.deliberation.models import REPORT_REASONS, STANCES
from portal.proposals.listing import PUBLIC_STATUSES, SORTS
from portal.proposals.models import RejectReason
from portal.residency.models import ResidencyStatus

# Each Literal[...] of values read from the enum or constant it mirrors (so the two cannot drift
# apart) carries a ``type: ignore[valid-type]``: pydantic takes it at run time, a type checker
# wants the values written out.

# --- auth and accounts ------------------------------------------------------------------------


class Credentials(Body):
    email: Annotated[str, text(254), Field(min_length=1)]
    password: Annotated[str, text(200), Field(min_length=1)]


class NewAccount(Body):
    email: Annotated[EmailStr, Field(max_length=254)]
    password: None = Field(
        default=None,
        description="Never sent: the password is chosen on the page of the mailed link, and a "
        "body with one is refused (400, fields.password) so no client believes it set one.",
    )
    display_name: Annotated[str, text(40, required=True), Field(min_length=2)]
    locale: Literal["zh_Hans", "en"] | None = None


# --- residency --------------------------------------------------------------------------------


class ResidencyApplication(Body):
    """Either a community to join (with an optional note), or an invitation code."""

    model_config = Body.model_config | {
        "json_schema_extra": {
            "anyOf": [{"required": ["community_code"]}, {"required": ["invitation_code"]}]
        }
    }

    community_code: Annotated[str, text(40), Field(min_length=1)] = ABSENT
    address_note: Annotated[str, text(200)] = ""
    invitation_code: Annotated[str, text(40), Field(min_length=1)] = ABSENT

    @model_validator(mode="after")
    def _one_way(self):
        if self.community_code is None and self.invitation_code is None:
            raise ValueError("Send community_code or invitation_code.")
        return self


class ResidencyDecision(Body):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, text(500)] | None = Field(
        default=None, description="Required to reject; shown to the person"
    )


class ResidencyRequestsQuery(Page):
    status: Literal[tuple(s.value for s in ResidencyStatus)] = "pending"  # type: ignore[valid-type]


# --- communities and notifications ------------------------------------------------------------


class CommunitiesQuery(Page):
    district: Annotated[str, text(40)] | None = None
    q: Annotated[str, text(100)] | None = None


class NotificationsQuery(Page):
    unread: Literal["true", "false"] | None = None


class MarkRead(Body):
    """Either ``ids`` (at most 100, a page) or ``all: true``."""

    model_config = Body.model_config | {
        "json_schema_extra": {"anyOf": [{"required": ["ids"]}, {"required": ["all"]}]}
    }

    ids: Annotated[list[Id], Field(min_length=1, max_length=100)] = ABSENT
    all: Literal[True] = ABSENT

    @model_validator(mode="after")
    def _one_way(self):
        if self.ids is None and self.all is None:
            raise ValueError("Send ids (a list of notification ids) or all: true.")
        return self


# --- proposals --------------------------------------------------------------------------------


class ProposalsQuery(Page):
    community: Annotated[str, text(40)] | None = None
    district: Annotated[str, text(40)] | None = None
    category: Annotated[str, text(40)] | None = None
    q: Annotated[str, text(200)] | None = None
    status: Literal[PUBLIC_STATUSES] | None = None  # type: ignore[valid-type]
    sort: Literal[SORTS] = "new"  # type: ignore[valid-type]


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


# --- cases ------------------------------------------------------------------------------------


class CasesQuery(Page):
    state: Literal[tuple(s.value for s in CaseState)] | None = None  # type: ignore[valid-type]
    agency: Annotated[str, text(40)] | None = None
    community: Annotated[str, text(40)] | None = None
    category: Annotated[str, text(40)] | None = None
    overdue: Literal["true", "false"] | None = None


def _case_actions() -> tuple[str, ...]:
    from portal.cases.services import ACTIONS

    return tuple(ACTIONS)


class CaseAction(Body):
    action: Literal[_case_actions()]  # type: ignore[valid-type]
    note: Annotated[str, text(2000)] | None = None
    expected_at: Instant | None = None
    agency_code: Annotated[str, text(40)] | None = None
    passed: bool | None = None
    reason_code: Literal["duplicate", "not-responsible", "no-further-action"] | None = None


class CaseFeedback(Body):
    solved: bool
    satisfaction: Annotated[int, Field(ge=1, le=5), WHOLE]
    comment: Annotated[str, text(500)] | None = ""


# --- deliberation -----------------------------------------------------------------------------


class CommentsQuery(Page):
    stance: Literal[STANCES] | None = None  # type: ignore[valid-type]


class NewComment(Body):
    body: Annotated[str, text(1000, required=True)]
    stance: Literal[STANCES] | None = None  # type: ignore[valid-type]
    parent_id: Id | None = None


class CommentPatch(Body):
    body: Annotated[str, text(1000, required=True)]


class NewReport(Body):
    target_type: Literal["proposal", "comment"]
    target_id: Id
    reason: Literal[REPORT_REASONS]  # type: ignore[valid-type]
    note: Annotated[str, text(500)] | None = ""


class ModerationRequest(Body):
    action: Literal["hide", "restore", "dismiss", "lock", "unlock", "block", "unblock"]
    target_type: Literal["proposal", "comment"]
    target_id: Id
    reason_code: Annotated[str, text(40)] | None = None
    note: Annotated[str, text(1000)] | None = None
    until: Instant | None = None


class NewAppeal(Body):
    action_id: Id
    note: Annotated[str, text(1000, required=True)]


class AppealDecision(Body):
    decision: Literal["uphold", "reverse"]
    note: Annotated[str, text(1000, required=True)]
