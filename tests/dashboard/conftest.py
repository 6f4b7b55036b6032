from tests.cases.conftest import make_case, people  # noqa: F401  (the case factories)
