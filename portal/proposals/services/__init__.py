"""Proposal rules: writing, review, support to a threshold (exactly once), withdrawal, expiry.

Transitions live in one table (``TRANSITIONS``) and go through ``transition()``, which checks
the move, stamps the lifecycle timestamp, records the public history and audits staff actions.

The rules live in the modules of this package, one per use case; this module re-exports
their public names, so ``from portal.proposals import services`` keeps working."""

from __future__ import annotations

from portal.proposals.services._common import EDITABLE, SUPPORTABLE, ProposalError
from portal.proposals.services.admin import save_category, set_support_rules
from portal.proposals.services.eligibility import (
    SupportStanding,
    may_support,
    support_standing,
)
from portal.proposals.services.expiry import qualify_reached, sweep
from portal.proposals.services.filing import (
    file_waiting,
    filing_problem,
    retry_filing,
    waiting_to_be_filed,
)
from portal.proposals.services.labels import reason_label, status_label
from portal.proposals.services.lifecycle import (
    REVIEW_DAYS,
    TRANSITIONS,
    NextStep,
    community_with_review_queue_size,
    create,
    edit,
    is_overdue,
    next_step,
    review,
    review_queue,
    review_queue_size,
    submit_proposal,
    transition,
    typical_review_days,
    withdraw,
)
from portal.proposals.services.mine import MINE_STATUSES, my_proposals, my_supports
from portal.proposals.services.proposal_photos import (
    add_photos,
    can_view_photos,
    has_photos,
    photos,
    remove_photo,
)
from portal.proposals.services.reading import (
    can_read,
    effective_status,
    has_supported,
    history,
    is_visible,
    resume_window,
    status_clause,
    support_progress,
    supported_ids,
    threshold_for,
    window_open,
)
from portal.proposals.services.search import (
    search_clause,
    search_filter,
    search_params,
    similar,
    similar_to,
)
from portal.proposals.services.supports import support, support_at_once, support_by_token, unsupport

__all__ = [
    "EDITABLE",
    "MINE_STATUSES",
    "REVIEW_DAYS",
    "SUPPORTABLE",
    "TRANSITIONS",
    "NextStep",
    "ProposalError",
    "SupportStanding",
    "add_photos",
    "can_read",
    "can_view_photos",
    "community_with_review_queue_size",
    "create",
    "edit",
    "effective_status",
    "file_waiting",
    "filing_problem",
    "has_photos",
    "has_supported",
    "history",
    "is_overdue",
    "is_visible",
    "may_support",
    "my_proposals",
    "my_supports",
    "next_step",
    "photos",
    "qualify_reached",
    "reason_label",
    "remove_photo",
    "resume_window",
    "retry_filing",
    "review",
    "review_queue",
    "review_queue_size",
    "save_category",
    "search_clause",
    "search_filter",
    "search_params",
    "set_support_rules",
    "similar",
    "similar_to",
    "status_clause",
    "status_label",
    "submit_proposal",
    "support",
    "support_at_once",
    "support_by_token",
    "support_progress",
    "support_standing",
    "supported_ids",
    "sweep",
    "threshold_for",
    "transition",
    "typical_review_days",
    "unsupport",
    "waiting_to_be_filed",
    "window_open",
    "withdraw",
]
