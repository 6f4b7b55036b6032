"""Filing the case of a qualified proposal: one failure policy, the waiting queue and retries."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app, url_for
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.services import record
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.i18n import current_locale
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.notifications.services import notify
from portal.proposals.models import Proposal
from portal.proposals.services._common import ProposalError
from portal.proposals.signals import proposal_qualified
from portal.roles import permissions
from portal.roles.models import Role, RoleGrant

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


def file_waiting(limit: int = 1000) -> Iterator[bool]:
    """The sweep's retry: files each proposal waiting to be filed, yielding after each whether
    it was filed (False: still waiting); the caller commits each (the sweep's command), so
    that one proposal's lock is not held while the next is filed."""
    after = 0
    while True:
        batch = db.session.scalars(
            select(Proposal.id)
            .where(Proposal.filing_pending_since.is_not(None), Proposal.id > after)
            .order_by(Proposal.id)
            .limit(limit)
        ).all()
        if not batch:
            return
        for proposal_id in batch:
            p = _lock_waiting(proposal_id)
            if p is not None:
                yield _file(p)
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
