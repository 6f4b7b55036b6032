"""The proposal and meeting factories, for what residents take part in and then delete."""

from tests.meetings.conftest import committee, make_meeting  # noqa: F401
from tests.proposals.conftest import category, make_proposal  # noqa: F401
