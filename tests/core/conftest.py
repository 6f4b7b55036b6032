"""The role matrix and the ownership tests build their world with the feature factories."""

from tests.cases.conftest import make_case  # noqa: F401
from tests.proposals.conftest import category, make_proposal  # noqa: F401
