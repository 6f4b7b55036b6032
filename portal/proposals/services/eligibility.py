"""Who may support: one rule, in SQL, and the refusal it gives when it fails."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, and_, or_, select
from sqlalchemy import false as sa_false
from sqlalchemy.sql.elements import ColumnElement

from portal.core import clock
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.proposals.models import Proposal
from portal.proposals.services._common import SUPPORTABLE, ProposalError, _proposals

# --- who may support: one rule, in SQL ------------------------------------------------------
#
# The rule lives in these expressions alone: the ORM path stores a support only where
# ``may_support`` holds and asks the same expressions why when it did not, the one-statement
# support is built from them, and the proposal page's "can support" evaluates them.


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
