"""Labels of statuses and rejection reasons, translated when called."""

from __future__ import annotations

from portal.core.i18n import lazy_gettext as _l
from portal.core.i18n import table_label
from portal.proposals.models import Status
from portal.proposals.services._common import S

# --- labels ----------------------------------------------------------------------------------


_STATUS_LABELS = {
    S.draft: _l("Draft"),
    S.submitted: _l("Awaiting review"),
    S.changes_requested: _l("Changes requested"),
    S.open: _l("Open for support"),
    S.qualified: _l("Threshold reached"),
    S.expired: _l("Expired"),
    S.rejected: _l("Rejected"),
    S.withdrawn: _l("Withdrawn"),
}

_REASON_LABELS = {
    "duplicate": _l("Duplicate of another proposal"),
    "not-public-interest": _l("Not a matter of public interest"),
    "outside-community-remit": _l("Outside the community's remit"),
    "offensive": _l("Offensive content"),
    "personal-data": _l("Contains personal data"),
    "already-in-progress": _l("Already being handled"),
    "other": _l("Other reason"),
}


def status_label(status: Status) -> str:
    """Translated when called: the tables hold lazy strings, one gettext per label shown."""
    return str(_STATUS_LABELS[status])


def reason_label(code: str | None) -> str:
    return table_label(_REASON_LABELS, code)
