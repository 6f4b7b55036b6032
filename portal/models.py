"""Every model, imported in one place for metadata and migrations."""

from portal.accounts.models import ApiToken, User, UserSession
from portal.audit.models import AuditEntry
from portal.notifications.models import Notification, OutboxMessage
from portal.places.models import City, Community, District, Grid, Street
from portal.residency.models import (
    InvitationBatch,
    InvitationCode,
    ResidencyRequest,
    ResidencyStatus,
)
from portal.roles.models import Agency, Role, RoleGrant

__all__ = [
    "Agency",
    "ApiToken",
    "AuditEntry",
    "City",
    "Community",
    "District",
    "Grid",
    "InvitationBatch",
    "InvitationCode",
    "Notification",
    "OutboxMessage",
    "ResidencyRequest",
    "ResidencyStatus",
    "Role",
    "RoleGrant",
    "Street",
    "User",
    "UserSession",
]
