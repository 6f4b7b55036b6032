"""Proposal rules: writing, review, support to a threshold (exactly once), withdrawal, expiry.

Transitions live in one table (``TRANSITIONS``) and go through ``transition()``, which checks
the move, stamps the lifecycle timestamp, records the public history and audits staff actions.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, cast

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, and_, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy import false as sa_false
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from portal.accounts.models import User
from portal.audit.services import record
from portal.core import clock
from portal.core.database import rowcount
from portal.core.errors import DomainError
from portal.core.i18n import current_locale, table_label
from portal.core.text import grams, render_markdown
from portal.extensions import db
from portal.media.images import ImageError, process_images
from portal.media.storage import storage_for
from portal.notifications.services import notify, register_type
from portal.places.models import Community, Grid
from portal.proposals.models import (
    Category,
    Proposal,
    ProposalEvent,
    ProposalGram,
    ProposalPhoto,
    RejectReason,
    Status,
    Support,
)
from portal.proposals.signals import proposal_qualified, proposal_rejected
from portal.roles import permissions
from portal.roles.models import Role, RoleGrant

REVIEW_DAYS = 3
S = Status

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


# --- reading ---------------------------------------------------------------------------------


def effective_status(p: Proposal) -> Status:
    """Expiry is derived at read time too, so it is right even before the sweep stamps it; a
    proposal hidden while its window ran is not expired: its window waits (``resume_window``)."""
    if (
        p.status == S.open
        and p.closes_at is not None
        and p.closes_at <= clock.now()
        and not p.window_paused
    ):
        return S.expired
    return p.status


def window_open(p: Proposal) -> bool:
    return p.status in SUPPORTABLE and p.closes_at is not None and p.closes_at > clock.now()


def resume_window(p: Proposal) -> None:
    """A proposal hidden while its support window ran could not be supported meanwhile: when it
    is restored, its window closes later by the time it was hidden. Call before unhiding."""
    closes_at, hidden_at = p.closes_at, p.hidden_at  # both set while the window is paused
    if p.status in SUPPORTABLE and p.window_paused and closes_at and hidden_at:
        p.closes_at = closes_at + (clock.now() - hidden_at)


def threshold_for(community: Community) -> int:
    by_share = math.ceil(community.support_percent / 100 * community.confirmed_residents)
    return max(community.support_minimum, by_share)


def has_supported(user, p: Proposal) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(Support.id).where(Support.proposal_id == p.id, Support.user_id == user.id)
        )
        is not None
    )


def supported_ids(user, proposal_ids: list[int]) -> set[int]:
    if not getattr(user, "is_authenticated", False) or not proposal_ids:
        return set()
    return set(
        db.session.scalars(
            select(Support.proposal_id).where(
                Support.user_id == user.id, Support.proposal_id.in_(proposal_ids)
            )
        )
    )


def history(p: Proposal) -> list[ProposalEvent]:
    return list(
        db.session.scalars(
            select(ProposalEvent)
            .where(ProposalEvent.proposal_id == p.id)
            .order_by(ProposalEvent.id)
        )
    )


def is_visible(user, p: Proposal) -> bool:
    """Drafts, submissions and change requests are seen by their author and the committee."""
    if p.status in (S.draft, S.submitted, S.changes_requested):
        if not getattr(user, "is_authenticated", False):
            return False
        if p.status == S.draft:
            return user.id == p.author_id
        return user.id == p.author_id or permissions.is_committee(user, p.community)
    return True


def can_read(user, p: Proposal) -> bool:
    """Whether ``user`` may read the proposal's text (title, summary, body, author, place) and
    see its photos. A proposal the committee hid (or that reports hid until it is reviewed)
    keeps only its number, status and the reason it is hidden for everyone but its author and
    the committee that moderates it. Reads only the proposal's own columns, so lists of cases
    can ask it row by row without loading anything more."""
    if not is_visible(user, p):
        return False
    if not p.hidden:
        return True
    return getattr(user, "is_authenticated", False) and (
        user.id == p.author_id or p.community_id in permissions.committee_community_ids(user)
    )


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


# --- photos ----------------------------------------------------------------------------------


def photos(p: Proposal) -> list[ProposalPhoto]:
    return list(
        db.session.scalars(
            select(ProposalPhoto)
            .where(ProposalPhoto.proposal_id == p.id)
            .order_by(ProposalPhoto.position, ProposalPhoto.id)
        )
    )


def can_view_photos(user, p: Proposal) -> bool:
    """Photos of rejected or hidden proposals stay with the author and the committee."""
    if not can_read(user, p):
        return False
    if p.status == S.rejected:
        return getattr(user, "is_authenticated", False) and (
            user.id == p.author_id or permissions.is_committee(user, p.community)
        )
    return True


def add_photos(author: User, p: Proposal, uploads: list[bytes]) -> list[ProposalPhoto]:
    """Check, clean (EXIF/GPS stripped, resized) and store up to the allowed number of photos."""
    if author.id != p.author_id:
        raise ProposalError("not_author", _("Only the author can add photos."), status=403)
    if not uploads:
        return []
    limit = current_app.config["MEDIA_MAX_PHOTOS"]
    existing = photos(p)
    if len(existing) + len(uploads) > limit:
        raise ProposalError(
            "too_many_photos",
            _("A proposal can have at most %(n)d photos.", n=limit),
            status=400,
            field="photos",
        )
    try:
        processed = process_images(uploads)
    except ImageError as err:
        raise ProposalError(err.code, str(err.message), status=400, field="photos") from None
    storage = storage_for(current_app)
    added = []
    for i, img in enumerate(processed, start=len(existing)):
        row = ProposalPhoto(
            proposal_id=p.id,
            content_type=img.content_type,
            width=img.width,
            height=img.height,
            position=i,
            name=storage.save(img.data, img.extension),
            thumb_name=storage.save(img.thumb, img.extension),
        )
        db.session.add(row)
        added.append(row)
    db.session.flush()
    return added


def remove_photo(author: User, p: Proposal, photo: ProposalPhoto) -> tuple[str, str]:
    """Delete the row; returns the file names for the caller to delete after the commit."""
    if author.id != p.author_id or photo.proposal_id != p.id:
        raise ProposalError("not_author", _("Only the author can remove photos."), status=403)
    if p.status not in EDITABLE:
        raise ProposalError(
            "not_editable",
            _("A proposal can be edited only as a draft or when the committee asked for changes."),
        )
    names = (photo.name, photo.thumb_name)
    db.session.delete(photo)
    db.session.flush()
    return names


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


def review_queue(community: Community):
    return (
        select(Proposal)
        .where(Proposal.community_id == community.id, Proposal.status == S.submitted)
        .order_by(Proposal.submitted_at, Proposal.id)
    )


def is_overdue(p: Proposal) -> bool:
    return p.status == S.submitted and p.review_due_at is not None and p.review_due_at < clock.now()


# --- support ---------------------------------------------------------------------------------


def _insert_ignoring_conflict(table):
    """INSERT … ON CONFLICT DO NOTHING on PostgreSQL and SQLite alike."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


_ANYONE = object()


def _add_support(p: Proposal, user_id: int, *, community_id=_ANYONE) -> int:
    """Insert the support and bump the count, as the last statement before the commit.

    The unique constraint makes a repeat insert nothing. The count is bumped by one atomic
    UPDATE that returns the new value: the row lock it takes is held only until the commit,
    and it serialises supports of this proposal alone. A support that returns a count at the
    threshold while the proposal is open qualifies it; the qualifying UPDATE is guarded by the
    status, so it happens once however many supports race (and a proposal left open at its
    threshold by a failure after the support was stored is qualified by the next support or
    by ``sweep``).
    """
    now = clock.now()
    # One statement, no savepoint: a repeat hits the unique constraint and inserts nothing, and
    # with ``community_id`` (the supporter's) nothing is inserted unless ``may_support`` holds
    # (the reason is looked up only then). Core statements on the tables: the ORM's bulk-DML layer
    # doubled the cost of this path.
    supports = Support.__table__
    stmt = _insert_ignoring_conflict(supports)
    if community_id is not _ANYONE:
        t = _proposals()
        values = select(
            t.c.id,
            literal(user_id, supports.c.user_id.type),
            literal(now, supports.c.created_at.type),
        ).where(t.c.id == p.id, may_support(t, user_id, community_id, now))
        stmt = stmt.from_select(["proposal_id", "user_id", "created_at"], values)
    else:
        stmt = stmt.values(proposal_id=p.id, user_id=user_id, created_at=now)
    table = _proposals()
    bump = (
        update(table)
        .where(table.c.id == p.id)
        .values(support_count=table.c.support_count + 1, last_activity_at=now)
        .returning(table.c.support_count, table.c.status, table.c.threshold)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: the insert in a data-modifying CTE and the count bumped only when it
        # inserted, holding the proposal's row lock only until the commit.
        added = stmt.returning(supports.c.id).cte("added")
        row = db.session.execute(bump.where(select(added.c.id).exists()).add_cte(added)).first()
    else:  # SQLite has no data-modifying CTEs: insert, then bump in the same transaction
        inserted = db.session.execute(stmt.returning(supports.c.id)).scalar()
        row = db.session.execute(bump).first() if inserted is not None else None
    if row is None:
        if community_id is not _ANYONE:
            raise _refusal(p, user_id, community_id)
        raise ProposalError("already_supported", _("You already support this proposal."))
    count, status, threshold = row
    # The returned values are the exact ones: no need to reload the whole proposal.
    set_committed_value(p, "support_count", count)
    set_committed_value(p, "last_activity_at", now)
    set_committed_value(p, "status", S(status))
    if status == S.open and threshold is not None and count >= threshold:
        _qualify(p)
    return count


def _qualify(p: Proposal, reached=None) -> None:
    reached = reached or clock.now()
    changed = rowcount(
        db.session.execute(
            update(Proposal)
            .where(Proposal.id == p.id, Proposal.status == S.open)
            .values(status=S.qualified, threshold_reached_at=reached)
            .execution_options(synchronize_session=False)
        )
    )
    if not changed:
        return
    set_committed_value(p, "status", S.qualified)
    set_committed_value(p, "threshold_reached_at", reached)
    db.session.add(
        ProposalEvent(
            proposal_id=p.id,
            from_status=S.open.value,
            to_status=S.qualified.value,
            actor_role="system",
        )
    )
    db.session.flush()
    notify(
        [p.author_id],
        "proposal_qualified",
        p,
        url=url_for("proposals.show", proposal_id=p.id),
        params={"title": p.title},
    )
    _file(p)


# --- filing the case: one failure policy ----------------------------------------------------


def _file(p: Proposal) -> bool:
    """Tell the subscribers of ``proposal_qualified`` (cases files the case) in a savepoint.

    The one failure policy of every path that qualifies a proposal (the support that reached
    the threshold, supports racing past it, the sweep, an admin's retry): should a subscriber
    fail (no routing rule covers the proposal, say), only its work is undone; the proposal stays
    qualified and its supports stand, it is marked waiting to be filed (since when, and why), the
    failure is logged, the committee and the admins are told the first time, and
    ``file_waiting`` (the sweep) or ``retry_filing`` (an admin) tries again. Returns whether it
    was filed."""
    try:
        with db.session.begin_nested():
            proposal_qualified.send(p)
    except Exception as err:  # a filing that fails never fails the support that caused it
        code = err.code if isinstance(err, DomainError) else "error"
        if isinstance(err, DomainError):
            current_app.logger.warning(
                "proposal %s waits to be filed as a case: %s (%s)", p.id, err.message, code
            )
        else:
            current_app.logger.exception("proposal %s waits to be filed as a case", p.id)
        first = p.filing_pending_since is None
        if first:
            p.filing_pending_since = clock.now()
        p.filing_error = code[:40]
        db.session.flush()
        if first:
            _tell_filing_failed(p)
        return False
    if p.filing_pending_since is not None:
        p.filing_pending_since = p.filing_error = None
        db.session.flush()
    return True


def _tell_filing_failed(p: Proposal) -> None:
    params = {"title": p.title}
    committee = db.session.scalars(
        select(RoleGrant.user_id).where(
            RoleGrant.role == Role.committee, RoleGrant.community_id == p.community_id
        )
    ).all()
    admins = set(
        db.session.scalars(select(RoleGrant.user_id).where(RoleGrant.role == Role.admin))
    ) - set(committee)
    url = url_for("proposals.show", proposal_id=p.id)
    notify(committee, "proposal_filing_failed", p, url=url, params=params)
    notify(admins, "proposal_filing_failed", p, url=url_for("admin.filing"), params=params)


def waiting_to_be_filed(limit: int = 200) -> list[Proposal]:
    """Qualified proposals whose case could not be filed yet, longest waiting first."""
    return list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.filing_pending_since.is_not(None))
            .order_by(Proposal.filing_pending_since, Proposal.id)
            .limit(limit)
        )
    )


def _lock_waiting(proposal_id: int) -> Proposal | None:
    """The proposal, locked, if it still waits to be filed (read again once the lock is held:
    a filing that committed meanwhile is seen, so a case is filed once)."""
    return db.session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id, Proposal.filing_pending_since.is_not(None))
        .with_for_update(of=Proposal)
        .execution_options(populate_existing=True)
    )


def retry_filing(actor: User, p: Proposal) -> bool:
    """An admin's "retry filing now": whether the case was filed. Audited."""
    if not permissions.is_admin(actor):
        raise ProposalError("forbidden", _("Only administrators retry filing."), status=403)
    locked = _lock_waiting(p.id)
    if locked is None:
        raise ProposalError("not_waiting", _("This proposal is not waiting to be filed."))
    filed = _file(locked)
    record(actor, "proposal.retry_filing", locked, filed=filed, error=locked.filing_error)
    return filed


def file_waiting(limit: int = 1000) -> tuple[int, int]:
    """The sweep's retry: each proposal waiting to be filed, in a transaction of its own.
    Returns (filed, still waiting)."""
    filed = waiting = 0
    after = 0
    while True:
        batch = db.session.scalars(
            select(Proposal.id)
            .where(Proposal.filing_pending_since.is_not(None), Proposal.id > after)
            .order_by(Proposal.id)
            .limit(limit)
        ).all()
        if not batch:
            return filed, waiting
        for proposal_id in batch:
            p = _lock_waiting(proposal_id)
            if p is not None:
                if _file(p):
                    filed += 1
                else:
                    waiting += 1
            db.session.commit()
        after = batch[-1]


def filing_problem(p: Proposal) -> str:
    """Why ``p`` waits to be filed, in words, for the staff."""
    if p.filing_error == "no_route":
        return _(
            "No routing rule for category “%(category)s” in community “%(community)s”, and no"
            " fallback agency for its district.",
            category=p.category.name(current_locale()),
            community=p.community.name(current_locale()),
        )
    return _("Filing failed unexpectedly (%(code)s); see the server log.", code=p.filing_error)


# --- who may support: one rule, in SQL ------------------------------------------------------
#
# The rule lives in these expressions alone: the ORM path stores a support only where
# ``may_support`` holds and asks the same expressions why when it did not, the one-statement
# support is built from them, and the proposal page's "can support" evaluates them.


def _proposals() -> Table:
    return cast(Table, Proposal.__table__)  # typed as any FromClause; a model's is its Table


def _support_refusals(p, user_id, community_id, now) -> list[tuple[str, ColumnElement[bool]]]:
    """Each condition of the support, named by the refusal it gives when it fails, in the order
    the refusals are told. ``p`` is the proposals table; the others are SQL expressions (or
    values) for the resident and the time."""
    from portal.blocks.models import Block

    b = cast(Table, Block.__table__)
    blocked = (
        select(b.c.id)
        .where(
            b.c.community_id == p.c.community_id,
            b.c.user_id == user_id,
            b.c.lifted_at.is_(None),
            or_(b.c.until.is_(None), b.c.until > now),
        )
        .exists()
    )
    return [
        (
            "not_a_resident",
            sa_false() if community_id is None else p.c.community_id == community_id,
        ),
        ("not_open", and_(p.c.status.in_(SUPPORTABLE), p.c.closes_at > now)),
        ("hidden", p.c.hidden == sa_false()),
        ("blocked", ~blocked),
    ]


def may_support(p, user_id, community_id, now) -> ColumnElement[bool]:
    """The resident (``user_id`` of ``community_id``) may support the proposal of table ``p``
    at ``now``: a resident of its community, its window open, not hidden, not blocked there."""
    return and_(*(rule for _code, rule in _support_refusals(p, user_id, community_id, now)))


def can_support(user, p: Proposal) -> bool:
    """The proposal page's "can support": ``may_support``, evaluated for this resident."""
    community_id = getattr(user, "community_id", None)
    if not getattr(user, "is_authenticated", False) or community_id is None:
        return False
    t = _proposals()
    rule = may_support(t, user.id, community_id, clock.now())
    return bool(db.session.scalar(select(rule).select_from(t).where(t.c.id == p.id)))


def support_refusal(user, p: Proposal) -> str | None:
    """What the proposal page tells a resident of its community who may not support it (a
    block, say): the support's own refusal. None for anyone else, whom the page tells who may."""
    community_id = getattr(user, "community_id", None)
    if not getattr(user, "is_authenticated", False) or community_id != p.community_id:
        return None
    return _refusal(p, user.id, community_id).message


def _refusal(p: Proposal, user_id: int, community_id) -> ProposalError:
    """Why the support of ``p`` was not stored: the first ``_support_refusals`` rule that
    fails, else it was stored already."""
    t = _proposals()
    rules = _support_refusals(t, user_id, community_id, clock.now())
    row = db.session.execute(
        select(*(rule.label(code) for code, rule in rules)).where(t.c.id == p.id)
    ).one()
    failed = next((code for (code, _rule), ok in zip(rules, row, strict=True) if not ok), None)
    if failed == "not_a_resident":
        return ProposalError(
            "not_a_resident",
            _("Only confirmed residents of this community can support it."),
            status=403,
        )
    if failed == "not_open":
        return ProposalError("not_open", _("This proposal is not open for support."))
    if failed == "hidden":
        return ProposalError(
            "hidden", _("This proposal is hidden while the committee reviews reports about it.")
        )
    if failed == "blocked":
        return ProposalError(
            "blocked", _("You are blocked from taking part in this community."), status=403
        )
    return ProposalError("already_supported", _("You already support this proposal."))


def support(user: User, p: Proposal) -> int:
    return _add_support(p, user.id, community_id=getattr(user, "community_id", None))


def _support_statement(who: Select, proposal_id, now):
    """The whole support in one statement (PostgreSQL), built from ``may_support``: the
    resident (``who``: its ``id`` and ``community_id``), the proposal's conditions, the
    insert and the count. The support that would reach the threshold is left to the full path,
    which qualifies the proposal in the same transaction."""
    from sqlalchemy.dialects import postgresql

    t, supports = _proposals(), cast(Table, Support.__table__)
    w = who.cte("who")
    target = (
        select(t.c.id, w.c.id, now)
        .join_from(t, w, t.c.community_id == w.c.community_id)
        .where(
            t.c.id == proposal_id,
            may_support(t, w.c.id, w.c.community_id, now),
            or_(t.c.status == S.qualified, t.c.support_count + 1 < t.c.threshold),
        )
    )
    added = (
        postgresql.insert(supports)
        .from_select(["proposal_id", "user_id", "created_at"], target)
        .on_conflict_do_nothing()
        .returning(supports.c.proposal_id)
        .cte("added")
    )
    return (
        update(t)
        .where(t.c.id == select(added.c.proposal_id).scalar_subquery())
        .values(support_count=t.c.support_count + 1, last_activity_at=now)
        .returning(t.c.support_count, t.c.status, t.c.threshold)
    )


def support_by_token(token_hash: str, proposal_id: int) -> tuple[int, Status] | None:
    """``support_at_once`` for the resident a bearer token stands for, authenticating the
    token in the same statement (``accounts.auth.valid_token``): the API's support in one
    round trip. None when the support was not stored, for whatever reason, the token's
    included: the caller then authenticates the token the usual way and takes the full path,
    which says why."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    params = {"token_hash": token_hash, "proposal_id": proposal_id, "now": clock.now()}
    return _support_in_one(_one_statement_support("token"), proposal_id, params)


_one_statement_supports: dict[str, Any] = {}


def _one_statement_support(who: str):
    """The one-statement support of ``who`` ("token": the resident of ``:token_hash``;
    "resident": ``:resident_id`` of ``:resident_community_id``), for ``:proposal_id`` at
    ``:now``. Built once per kind and kept by its name (never by ``id()``): building the
    expression cost more than running it."""
    stmt = _one_statement_supports.get(who)
    if stmt is None:
        users = cast(Table, User.__table__)
        now = bindparam("now", type_=Support.__table__.c.created_at.type)
        if who == "token":
            from portal.accounts.auth import valid_token
            from portal.accounts.models import ApiToken

            tokens = cast(Table, ApiToken.__table__)
            resident = (
                select(users.c.id, users.c.community_id)
                .join_from(tokens, users, users.c.id == tokens.c.user_id)
                .where(
                    valid_token(tokens, users, bindparam("token_hash"), now),
                    users.c.community_id.is_not(None),
                )
            )
        else:
            resident = select(
                bindparam("resident_id", type_=users.c.id.type).label("id"),
                bindparam("resident_community_id", type_=users.c.community_id.type).label(
                    "community_id"
                ),
            )
        stmt = _one_statement_supports[who] = _support_statement(
            resident, bindparam("proposal_id", type_=users.c.id.type), now
        )
    return stmt


def _support_in_one(statement, proposal_id: int, params: dict) -> tuple[int, Status] | None:
    row = db.session.execute(statement, params).first()
    if row is None:
        return None
    count, status, threshold = row[0], S(row[1]), row[2]
    if status == S.open and threshold is not None and count >= threshold:
        status = _qualify_apart(proposal_id)
    return count, status


def support_at_once(user: User, proposal_id: int) -> tuple[int, Status] | None:
    """Support in one round trip when everything allows it: returns the new count and the
    status, or None when the support was not stored (unknown or hidden proposal, not a
    resident, window closed, blocked, already supported, or this support would reach the
    threshold; ``support`` then says which, or stores it and qualifies in one transaction) or
    on SQLite. The support is committed with the request (the API's one commit). Supports
    racing for the last places can still pass the threshold here: the proposal is then
    qualified in the next transaction (``_qualify_apart``), under the same failure policy as
    the full path (``_file``): a case that cannot be filed leaves it qualified and waiting to
    be filed.
    """
    community_id = getattr(user, "community_id", None)
    if community_id is None or db.session.get_bind().dialect.name != "postgresql":
        return None
    params = {
        "proposal_id": proposal_id,
        "resident_community_id": community_id,
        "resident_id": user.id,
        "now": clock.now(),
    }
    return _support_in_one(_one_statement_support("resident"), proposal_id, params)


def _qualify_apart(proposal_id: int, reached=None) -> Status:
    """Qualify in a transaction of its own, after the support that reached the threshold was
    stored. A case that cannot be filed leaves it qualified and waiting to be filed (``_file``,
    the policy of every path); any other failure (the database gone, say) is logged and leaves
    it open for ``qualify_reached`` to retry, without undoing the support or failing its
    request."""
    db.session.commit()
    try:
        p = db.session.get_one(Proposal, proposal_id)
        _qualify(p, reached)
        db.session.commit()
        return p.status
    except Exception:
        db.session.rollback()
        current_app.logger.exception(
            "proposal %s reached its threshold but did not qualify", proposal_id
        )
        return S.open


def unsupport(user: User, p: Proposal) -> int:
    if p.status != S.open or not window_open(p):
        if p.status == S.qualified:
            raise ProposalError(
                "support_final", _("The threshold has been reached; supports are final now.")
            )
        raise ProposalError("not_open", _("This proposal is not open for support."))
    if user.id == p.author_id:
        raise ProposalError(
            "author_support", _("The author's support stays while the proposal is open.")
        )
    gone = rowcount(
        db.session.execute(
            delete(Support).where(Support.proposal_id == p.id, Support.user_id == user.id)
        )
    )
    if not gone:
        raise ProposalError("not_supported", _("You do not support this proposal."))
    count = db.session.execute(
        update(Proposal)
        .where(Proposal.id == p.id)
        .values(support_count=Proposal.support_count - 1)
        .returning(Proposal.support_count)
    ).scalar_one()
    db.session.refresh(p)
    return count


# --- expiry ----------------------------------------------------------------------------------


def qualify_reached(limit: int = 1000) -> tuple[int, int]:
    """Qualify open proposals at their threshold, left so when the qualification that follows a
    support stored alone did not run or failed. Each in a transaction of its own, stamped with
    the time of its last support, filed or left waiting to be filed (``_file``); one that fails
    again is logged and skipped. Returns (qualified, failed)."""
    done = failed = 0
    after = 0
    while True:
        batch = db.session.scalars(
            select(Proposal.id)
            .where(
                Proposal.status == S.open,
                Proposal.threshold.is_not(None),
                Proposal.support_count >= Proposal.threshold,
                Proposal.id > after,
            )
            .order_by(Proposal.id)
            .limit(limit)
        ).all()
        if not batch:
            return done, failed
        for proposal_id in batch:
            reached = db.session.scalar(
                select(func.max(Support.created_at)).where(Support.proposal_id == proposal_id)
            )
            if _qualify_apart(proposal_id, reached) == S.qualified:
                done += 1
            else:
                failed += 1
        after = batch[-1]


def sweep(limit: int = 1000) -> int:
    """Stamp proposals whose window closed without reaching the threshold as expired."""
    due = db.session.scalars(
        select(Proposal)
        .where(
            Proposal.status == S.open,
            Proposal.closes_at <= clock.now(),
            # One at its threshold is qualified by qualify_reached, never expired.
            Proposal.support_count < func.coalesce(Proposal.threshold, Proposal.support_count + 1),
            # Hidden while its window ran: the window waits until it is restored.
            ~Proposal.window_paused,
        )
        .order_by(Proposal.closes_at)
        .limit(limit)
        # Locked, and read as committed at that moment: a support that counted just before the
        # window closed is seen (and its proposal left alone), never overwritten.
        .with_for_update(of=Proposal, skip_locked=True)
    ).all()
    for p in due:
        transition(p, S.expired, None, role="system", fields={"expired_at": p.closes_at})
    db.session.flush()
    return len(due)


# --- finding ---------------------------------------------------------------------------------


def similar(
    community: Community, text: str, *, exclude_id: int | None = None, limit: int = 5
) -> list[Proposal]:
    """Proposals of the community sharing the most n-grams with ``text``: open, qualified or
    from the last 180 days. Uses the gram index (community, gram) — never a scan."""
    wanted = grams(text)
    if not wanted:
        return []
    shared = func.count().label("shared")
    sub = (
        select(ProposalGram.proposal_id, shared)
        .where(ProposalGram.community_id == community.id, ProposalGram.gram.in_(wanted))
        .group_by(ProposalGram.proposal_id)
        .subquery()
    )
    recent = clock.now() - timedelta(days=180)
    stmt = (
        select(Proposal)
        .join(sub, sub.c.proposal_id == Proposal.id)
        # Submissions awaiting review are private to their author and the committee.
        .where(Proposal.status.in_([S.open, S.qualified, S.expired]), Proposal.hidden.is_(False))
        .where((Proposal.status.in_([S.open, S.qualified])) | (Proposal.created_at >= recent))
        # A third of the pairs in common, but two shared pairs suffice for longer texts.
        .where(sub.c.shared * 3 >= min(len(wanted), 6))
        .order_by(sub.c.shared.desc(), Proposal.id.desc())
        .limit(limit)
    )
    if exclude_id:
        stmt = stmt.where(Proposal.id != exclude_id)
    return list(db.session.scalars(stmt).unique())


def search_filter(stmt, text: str, community_id: int | None = None):
    """Restrict a proposal query to those whose title or summary holds every n-gram of
    ``text`` (two-character Chinese queries included), answered from the gram index."""
    wanted = grams(text)
    if not wanted:
        return stmt.where(sa_false())
    ids = select(ProposalGram.proposal_id).where(ProposalGram.gram.in_(wanted))
    if community_id is not None:
        ids = ids.where(ProposalGram.community_id == community_id)
    ids = ids.group_by(ProposalGram.proposal_id).having(func.count() == len(wanted))
    return stmt.where(Proposal.id.in_(ids))


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


# --- administration ----------------------------------------------------------------------------


def save_category(
    actor: User,
    category: Category | None,
    *,
    code: str,
    name_zh: str,
    name_en: str,
    icon: str,
    position: int,
    active: bool,
    limits: tuple[int, int, int] | None = None,
) -> Category:
    """Create (category None) or update a category; the code is fixed once created."""
    if category is None:
        if db.session.scalar(select(Category.id).where(Category.code == code)) is not None:
            raise ProposalError(
                "code_taken",
                _("A category with this code already exists."),
                status=400,
                field="code",
            )
        category = Category(code=code)
        db.session.add(category)
    category.name_zh, category.name_en = name_zh.strip(), name_en.strip()
    category.icon, category.position, category.active = icon.strip() or "•", position, active
    if limits is not None:  # working days: respond, handle, verify
        category.response_days, category.handling_days, category.verification_days = limits
    db.session.flush()
    record(actor, "category.save", category, code=category.code, active=active)
    return category


def set_support_rules(
    actor: User, community: Community, *, minimum: int, percent: float, window_days: int
) -> None:
    """Thresholds of proposals opened from now on; open proposals keep their frozen one."""
    before = [community.support_minimum, community.support_percent, community.support_window_days]
    community.support_minimum, community.support_percent = minimum, percent
    community.support_window_days = window_days
    db.session.flush()
    record(
        actor,
        "community.support_rules",
        community,
        before=before,
        after=[minimum, percent, window_days],
    )
