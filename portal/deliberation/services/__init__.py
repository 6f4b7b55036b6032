"""Deliberation rules: comments, reports with automatic hiding, moderation actions that are
reasoned, reversible and public, blocks, and appeals decided by someone else.

The rules live in the modules of this package, one per use case; this module re-exports
their public names, so ``from portal.deliberation import services`` keeps working."""

from __future__ import annotations

from portal.deliberation.services._common import (
    DeliberationError,
    check_not_blocked,
    committee_members,
)
from portal.deliberation.services.appeals import (
    appeal,
    can_decide_appeal,
    decide_appeal,
    supervisors,
)
from portal.deliberation.services.comments import (
    COMMENTABLE,
    EDIT_MINUTES,
    MAX_BODY,
    add_comment,
    can_comment,
    delete_comment,
    edit_comment,
    render_body,
    stance_counts,
    thread,
)
from portal.deliberation.services.mine import my_comments
from portal.deliberation.services.moderation import (
    block_user,
    can_moderate,
    install,
    log_rejection,
    moderate,
)
from portal.deliberation.services.queues import (
    QUEUE_PAGE,
    figures,
    public_log,
    queue,
    queue_cursor,
    reason_label,
    reason_text,
)
from portal.deliberation.services.reports import counting_reports, counts_toward_hiding, report

__all__ = [
    "COMMENTABLE",
    "EDIT_MINUTES",
    "MAX_BODY",
    "QUEUE_PAGE",
    "DeliberationError",
    "add_comment",
    "appeal",
    "block_user",
    "can_comment",
    "can_decide_appeal",
    "can_moderate",
    "check_not_blocked",
    "committee_members",
    "counting_reports",
    "counts_toward_hiding",
    "decide_appeal",
    "delete_comment",
    "edit_comment",
    "figures",
    "install",
    "log_rejection",
    "moderate",
    "my_comments",
    "public_log",
    "queue",
    "queue_cursor",
    "reason_label",
    "reason_text",
    "render_body",
    "report",
    "stance_counts",
    "supervisors",
    "thread",
]
