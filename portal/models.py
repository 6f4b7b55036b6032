"""Every model, imported in one place for metadata and migrations."""

from portal.accounts.models import (
    ApiToken,
    RecoveryCode,
    SmsCode,
    SmsNumber,
    User,
    UserSession,
)
from portal.audit.models import AccessEntry, AuditEntry
from portal.blocks.models import Block
from portal.cases.models import (
    CalendarDay,
    Case,
    CaseCounter,
    CaseEvent,
    CaseFeedback,
    CasePhoto,
    CaseState,
    RoutingRule,
)
from portal.deliberation.models import Appeal, Comment, ModerationAction, Report
from portal.meetings.models import (
    AgendaItem,
    Answer,
    Commitment,
    Decision,
    Invitation,
    Meeting,
    Question,
    Registration,
)
from portal.notifications.models import Notification, OutboxMessage
from portal.places.models import City, Community, District, Grid, Street
from portal.proposals.models import (
    Category,
    Proposal,
    ProposalEvent,
    ProposalGram,
    ProposalPhoto,
    Status,
    Support,
)
from portal.residency.models import (
    InvitationBatch,
    InvitationCode,
    ResidencyRequest,
    ResidencyStatus,
)
from portal.roles.models import Agency, Role, RoleGrant
from portal.transparency.dashboard.models import DashboardFact, DashboardRollup
from portal.transparency.open311.models import Open311Key, Open311Request
from portal.votes.models import Ballot, Elector, Vote, VoteOption

__all__ = [
    "AccessEntry",
    "Agency",
    "AgendaItem",
    "Answer",
    "ApiToken",
    "Appeal",
    "AuditEntry",
    "Ballot",
    "Block",
    "CalendarDay",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "CaseFeedback",
    "CasePhoto",
    "CaseState",
    "Category",
    "City",
    "Comment",
    "Commitment",
    "Community",
    "DashboardFact",
    "DashboardRollup",
    "Decision",
    "District",
    "Elector",
    "Grid",
    "Invitation",
    "InvitationBatch",
    "InvitationCode",
    "Meeting",
    "ModerationAction",
    "Notification",
    "Open311Key",
    "Open311Request",
    "OutboxMessage",
    "Proposal",
    "ProposalEvent",
    "ProposalGram",
    "ProposalPhoto",
    "Question",
    "RecoveryCode",
    "Registration",
    "Report",
    "ResidencyRequest",
    "ResidencyStatus",
    "Role",
    "RoleGrant",
    "RoutingRule",
    "SmsCode",
    "SmsNumber",
    "Status",
    "Street",
    "Support",
    "User",
    "UserSession",
    "Vote",
    "VoteOption",
]
