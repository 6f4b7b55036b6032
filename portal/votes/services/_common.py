"""What every vote rule shares: the error, the notification types, the tolerance of times."""

from __future__ import annotations

from datetime import timedelta

from portal.core.errors import DomainError
from portal.core.i18n import lazy_gettext as _l
from portal.notifications.services import register_type

# A vote may be set to open a little in the past (the form took a while to fill in).
PAST_TOLERANCE = timedelta(minutes=5)

register_type("vote_opened", _l("A vote is open in your community: “%(question)s”."))
register_type("vote_closed", _l("The vote “%(question)s” has closed: the results are out."))


class VoteError(DomainError):
    """A vote rule said no."""
