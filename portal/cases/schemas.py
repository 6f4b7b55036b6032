"""What the case operations of the API accept (see ``portal.api.schemas``)."""

from typing import Annotated, Literal

from pydantic import Field

from portal.cases.models import CaseState
from portal.core.validation import WHOLE, Body, Instant, Page, text

# Each Literal[...] of values read from the enum or constant it mirrors (so the two cannot drift
# apart) carries a ``type: ignore[valid-type]``: pydantic takes it at run time, a type checker
# wants the values written out.

# --- cases ------------------------------------------------------------------------------------


class CasesQuery(Page):
    state: Literal[tuple(s.value for s in CaseState)] | None = None  # type: ignore[valid-type]
    agency: Annotated[str, text(40)] | None = None
    community: Annotated[str, text(40)] | None = None
    district: Annotated[str, text(40)] | None = None
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
