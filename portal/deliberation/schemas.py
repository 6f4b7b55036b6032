"""What the deliberation operations of the API accept (see ``portal.api.schemas``)."""

from typing import Annotated, Literal

from portal.core.validation import Body, Id, Instant, Page, text
from portal.deliberation.models import REPORT_REASONS, STANCES

# Each Literal[...] of values read from the enum or constant it mirrors (so the two cannot drift
# apart) carries a ``type: ignore[valid-type]``: pydantic takes it at run time, a type checker
# wants the values written out.

# --- deliberation -----------------------------------------------------------------------------


class CommentsQuery(Page):
    stance: Literal[STANCES] | None = None  # type: ignore[valid-type]


class MyCommentsQuery(Page):
    """A page of the caller's own comments, newest first."""


class NewComment(Body):
    body: Annotated[str, text(1000, required=True)]
    stance: Literal[STANCES] | None = None  # type: ignore[valid-type]
    parent_id: Id | None = None


class CommentPatch(Body):
    body: Annotated[str, text(1000, required=True)]


# Any kind of the registry of report targets (``deliberation.targets``); the service refuses
# one it does not know (400 ``invalid_target``).
TargetType = Annotated[str, text(10, required=True)]


class NewReport(Body):
    target_type: TargetType
    target_id: Id
    reason: Literal[REPORT_REASONS]  # type: ignore[valid-type]
    note: Annotated[str, text(500)] | None = ""


class ModerationRequest(Body):
    action: Literal["hide", "restore", "dismiss", "lock", "unlock", "block", "unblock"]
    target_type: TargetType
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
