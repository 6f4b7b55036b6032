"""What every proposal rule shares: the error, the supportable and editable statuses, the
notification types and the proposals table."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from portal.core.errors import DomainError
from portal.core.i18n import lazy_gettext as _l
from portal.notifications.services import register_type
from portal.proposals.models import Proposal, Status

S = Status

EDITABLE = {S.draft, S.changes_requested}
SUPPORTABLE = {S.open, S.qualified}

register_type("proposal_approved", _l("Your proposal “%(title)s” is open for support."))
register_type(
    "proposal_changes_requested", _l("The committee asks for changes to your proposal “%(title)s”.")
)
register_type("proposal_rejected", _l("Your proposal “%(title)s” was not accepted."))
register_type("proposal_qualified", _l("Your proposal “%(title)s” reached its support threshold."))
register_type(
    "proposal_filing_failed",
    _l("Proposal “%(title)s” reached its threshold but could not be filed as a case yet."),
)


class ProposalError(DomainError):
    """A proposal rule said no."""


def _proposals() -> Table:
    return cast(Table, Proposal.__table__)  # typed as any FromClause; a model's is its Table
