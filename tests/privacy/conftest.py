"""The proposal factories, for proposals that residents support and then delete."""

from tests.proposals.conftest import category, make_proposal  # noqa: F401
