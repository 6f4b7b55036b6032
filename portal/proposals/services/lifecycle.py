"""A proposal's life: the one transition function, writing, submitting, withdrawing and the
committee's review."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import url_for
from sqlalchemy import bindparam, delete, func, insert, select

from portal.accounts.models import User
from portal.accounts.phones import check_may_take_part
from portal.audit.services import record
from portal.core import clock
from portal.core.i18n import found_city_timezone
from portal.core.i18n import gettext as _
from portal.core.text import grams, render_markdown
from portal.extensions import db
from portal.notifications.services import notify
from portal.places.models import Community, Grid
from portal.places.services import city_timezone_column
from portal.proposals.models import (
    Category,
    Proposal,
    ProposalEvent,
    ProposalGram,
    RejectReason,
    Status,
)
from portal.proposals.services._common import EDITABLE, ProposalError, S
from portal.proposals.services.labels import status_label
from portal.proposals.services.reading import effective_status, threshold_for
from portal.proposals.services.supports import _add_support
from portal.proposals.signals import proposal_rejected
from portal.roles import permissions

REVIEW_DAYS = 3

# (from, to) → who may make the move.
TRANSITIONS: dict[tuple[Status, Status], str] = {
    (S.draft, S.submitted): "author",
    (S.changes_requested, S.submitted): "author",
    (S.submitted, S.open): "committee",
    (S.submitted, S.changes_requested): "committee",
    (S.submitted, S.rejected): "committee",
    (S.open, S.qualified): "system",
    (S.open, S.expired): "system",
}
for _from in (S.draft, S.submitted, S.changes_requested, S.open):
    TRANSITIONS[(_from, S.withdrawn)] = "author"


# --- the one transition function -------------------------------------------------------------


def transition(
    p: Proposal,
    to: Status,
    actor: User | None,
    *,
    role: str,
    note: str | None = None,
    reason_code: str | None = None,
    fields: dict | None = None,
) -> None:
    """Move ``p`` to ``to`` if the table allows it for ``role``; ``fields`` are set in the same
    flush (the database checks, e.g., that an open proposal has its window and threshold); a
    callable value is given the transition's timestamp."""
    frm = p.status
    allowed = TRANSITIONS.get((frm, to))
    if allowed is None or allowed != role:
        raise ProposalError(
            "invalid_transition",
            _(
                "This proposal cannot go from “%(a)s” to “%(b)s”.",
                a=status_label(frm),
                b=status_label(to),
            ),
        )
    now = clock.now()
    p.status = to
    p.updated_at = p.last_activity_at = now
    stamp = {
        S.submitted: "submitted_at",
        S.open: "opened_at",
        S.qualified: "threshold_reached_at",
        S.expired: "expired_at",
        S.rejected: "rejected_at",
        S.withdrawn: "withdrawn_at",
    }
    if to in stamp:
        setattr(p, stamp[to], now)
    for name, value in (fields or {}).items():
        setattr(p, name, value(now) if callable(value) else value)
    db.session.add(
        ProposalEvent(
            proposal_id=p.id,
            from_status=frm.value,
            to_status=to.value,
            actor_id=getattr(actor, "id", None),
            actor_role=role,
            reason_code=reason_code,
            note=note,
        )
    )
    db.session.flush()
    if role == "committee":
        record(actor, f"proposal.{to.value}", p, from_status=frm.value, reason=reason_code)


# --- writing ---------------------------------------------------------------------------------


def _check_resident(user: User, community: Community) -> None:
    if user.community_id != community.id:
        raise ProposalError(
            "not_a_resident",
            _("Only confirmed residents of this community can do this."),
            status=403,
        )
    check_may_take_part(user)


def _apply_fields(
    p: Proposal,
    *,
    title: str,
    summary: str,
    body: str,
    category: Category,
    grid: Grid | None,
    location_note: str,
) -> None:
    if grid is not None and grid.community_id != p.community_id:
        raise ProposalError(
            "invalid_grid", _("Choose a grid of this community."), status=400, field="grid"
        )
    if not category.active:
        raise ProposalError(
            "invalid_category", _("Choose a category."), status=400, field="category"
        )
    p.title, p.summary, p.body = title.strip(), summary.strip(), body.strip()
    p.body_html = render_markdown(p.body)
    p.category_id, p.grid_id = category.id, grid.id if grid else None
    p.location_note = (location_note or "").strip()
    p.updated_at = clock.now()


def _index(p: Proposal) -> None:
    db.session.execute(delete(ProposalGram).where(ProposalGram.proposal_id == p.id))
    rows = [
        {"community_id": p.community_id, "gram": g, "proposal_id": p.id}
        for g in grams(f"{p.title} {p.summary}")
    ]
    if rows:
        db.session.execute(insert(ProposalGram), rows)


def create(
    author: User,
    community: Community,
    *,
    title: str,
    summary: str,
    body: str,
    category: Category,
    grid: Grid | None = None,
    location_note: str = "",
    submit: bool = False,
) -> Proposal:
    _check_resident(author, community)
    p = Proposal(
        community_id=community.id,
        author_id=author.id,
        status=S.draft,
        title="",
        summary="",
        body="",
        body_html="",
        category_id=category.id,
    )
    _apply_fields(
        p,
        title=title,
        summary=summary,
        body=body,
        category=category,
        grid=grid,
        location_note=location_note,
    )
    db.session.add(p)
    db.session.flush()
    db.session.add(
        ProposalEvent(
            proposal_id=p.id,
            from_status=None,
            to_status=S.draft.value,
            actor_id=author.id,
            actor_role="author",
        )
    )
    _index(p)
    if submit:
        submit_proposal(author, p)
    return p


def edit(author: User, p: Proposal, **fields) -> None:
    if author.id != p.author_id:
        raise ProposalError("not_author", _("Only the author can edit this proposal."), status=403)
    if p.status not in EDITABLE:
        raise ProposalError(
            "not_editable",
            _("A proposal can be edited only as a draft or when the committee asked for changes."),
        )
    _apply_fields(p, **fields)
    _index(p)
    db.session.flush()


def submit_proposal(author: User, p: Proposal) -> None:
    if author.id != p.author_id:
        raise ProposalError(
            "not_author", _("Only the author can submit this proposal."), status=403
        )
    _check_resident(author, p.community)
    transition(
        p,
        S.submitted,
        author,
        role="author",
        fields={"review_due_at": lambda now: now + timedelta(days=REVIEW_DAYS)},
    )


def withdraw(author: User, p: Proposal, reason: str) -> None:
    if author.id != p.author_id:
        raise ProposalError(
            "not_author", _("Only the author can withdraw this proposal."), status=403
        )
    reason = (reason or "").strip()
    if not reason:
        raise ProposalError(
            "reason_required", _("Say why you withdraw the proposal."), status=400, field="reason"
        )
    if effective_status(p) == S.expired:
        raise ProposalError("invalid_transition", _("The support window has closed."))
    transition(
        p, S.withdrawn, author, role="author", note=reason, fields={"withdraw_reason": reason}
    )


# --- review ----------------------------------------------------------------------------------


def review(
    actor: User,
    p: Proposal,
    decision: str,
    *,
    reason_code: str | None = None,
    note: str | None = None,
    duplicate_of: Proposal | None = None,
) -> None:
    if not permissions.is_committee(actor, p.community):
        raise ProposalError(
            "forbidden", _("Only this community's committee reviews its proposals."), status=403
        )
    note = (note or "").strip() or None
    params = {"title": p.title}
    url = url_for("proposals.show", proposal_id=p.id)
    if decision == "approve":
        window = timedelta(days=p.community.support_window_days)
        transition(
            p,
            S.open,
            actor,
            role="committee",
            note=note,
            fields={
                "threshold": threshold_for(p.community),
                "reviewed_at": lambda now: now,
                "review_note": note,
                "closes_at": lambda now: now + window,
            },
        )
        notify([p.author_id], "proposal_approved", p, url=url, params=params)
        # The author's own support is recorded as the window opens.
        _add_support(p, p.author_id)
    elif decision == "request_changes":
        if not note:
            raise ProposalError(
                "note_required", _("Say what should change."), status=400, field="note"
            )
        transition(
            p,
            S.changes_requested,
            actor,
            role="committee",
            note=note,
            fields={"reviewed_at": clock.now(), "review_note": note},
        )
        notify([p.author_id], "proposal_changes_requested", p, url=url, params=params)
    elif decision == "reject":
        valid = {r.value for r in RejectReason}
        if reason_code not in valid:
            raise ProposalError(
                "reason_required",
                _("Choose a reason for the rejection."),
                status=400,
                field="reason_code",
            )
        if reason_code == RejectReason.duplicate.value:
            if (
                duplicate_of is None
                or duplicate_of.id == p.id
                or duplicate_of.community_id != p.community_id
            ):
                raise ProposalError(
                    "duplicate_required",
                    _("Name the original proposal of this community."),
                    status=400,
                    field="duplicate_of",
                )
            p.duplicate_of_id = duplicate_of.id
        transition(
            p,
            S.rejected,
            actor,
            role="committee",
            note=note,
            reason_code=reason_code,
            fields={"reject_reason": reason_code, "reviewed_at": clock.now(), "review_note": note},
        )
        notify([p.author_id], "proposal_rejected", p, url=url, params=params)
        # Deliberation writes it to the public moderation log (its receiver).
        proposal_rejected.send(p, actor=actor, reason_code=reason_code, note=note)
    else:
        raise ProposalError(
            "invalid_decision",
            _("Choose approve, request changes or reject."),
            status=400,
            field="decision",
        )
    db.session.flush()


# The review time a pending proposal's page quotes is the community's own recent median when
# there are enough reviews to go by, else the configured aim (``REVIEW_DAYS``).
REVIEW_SAMPLE_DAYS = 90
REVIEW_SAMPLE_MIN = 5


@dataclass(frozen=True)
class NextStep:
    """What happens to a submitted proposal: the committee reviews it within ``review_days``
    (``measured``: the community's recent median, else the aim), then it needs ``supports``
    supports within ``window_days`` days."""

    review_days: int
    measured: bool
    supports: int
    window_days: int


def typical_review_days(community: Community) -> tuple[int, bool]:
    """Whole days (rounded up, at least 1) the committee took, in the median, over the last
    ``REVIEW_SAMPLE_DAYS`` days, and True; or ``REVIEW_DAYS`` and False with too few reviews."""
    since = clock.now() - timedelta(days=REVIEW_SAMPLE_DAYS)
    rows = db.session.execute(
        select(Proposal.submitted_at, Proposal.reviewed_at)
        .where(
            Proposal.community_id == community.id,
            Proposal.reviewed_at >= since,
            Proposal.submitted_at.is_not(None),
        )
        .order_by(Proposal.reviewed_at.desc())
        .limit(200)
    ).all()
    waits = [(r - s).total_seconds() for s, r in rows if r and s and r >= s]
    if len(waits) < REVIEW_SAMPLE_MIN:
        return REVIEW_DAYS, False
    return max(1, math.ceil(statistics.median(waits) / 86400)), True


def next_step(p: Proposal) -> NextStep:
    days, measured = typical_review_days(p.community)
    return NextStep(
        review_days=days,
        measured=measured,
        supports=threshold_for(p.community),
        window_days=p.community.support_window_days,
    )


def _awaiting_review(community_id):
    return (Proposal.community_id == community_id) & (Proposal.status == S.submitted)


def review_queue(community: Community):
    return (
        select(Proposal)
        .where(_awaiting_review(community.id))
        .order_by(Proposal.submitted_at, Proposal.id)
    )


@cache
def _review_queue_size():
    # Built once, the community bound (the community's page, lists and queues all show it).
    community_id = bindparam("community_id", type_=Proposal.community_id.type)
    return select(func.count()).select_from(Proposal).where(_awaiting_review(community_id))


def review_queue_size(community: Community) -> int:
    """How many proposals of ``community`` wait for the committee's review."""
    return db.session.scalar(_review_queue_size(), {"community_id": community.id}) or 0


@cache
def _community_with_review_queue_size():
    # Built once, the code bound: the community's proposal list shows both.
    waiting = (
        select(func.count())
        .select_from(Proposal)
        .where(_awaiting_review(Community.id))
        .scalar_subquery()
    )
    return select(Community, waiting, city_timezone_column()).where(
        Community.code == bindparam("code", type_=Community.code.type)
    )


def community_with_review_queue_size(code: str) -> tuple[Community, int] | None:
    """The community coded ``code`` and ``review_queue_size`` of it, in one statement; None
    when no community has the code. The statement brings the city's time zone for the
    community's list page too (``core.i18n.found_city_timezone``)."""
    row = db.session.execute(_community_with_review_queue_size(), {"code": code}).first()
    if row is None:
        return None
    found_city_timezone(row[2])
    return row[0], row[1] or 0


def is_overdue(p: Proposal) -> bool:
    return p.status == S.submitted and p.review_due_at is not None and p.review_due_at < clock.now()
