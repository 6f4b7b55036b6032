"""The proposal and case factories, shared with the features' own tests."""

from tests.cases.conftest import make_case  # noqa: F401
from tests.proposals.conftest import category, make_proposal  # noqa: F401
