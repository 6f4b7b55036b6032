from tests.cases.conftest import make_case  # noqa: F401  (fixtures shared with cases)
from tests.proposals.conftest import category, make_proposal  # noqa: F401
