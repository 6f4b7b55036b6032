"""Who may support: one rule, in SQL, and the refusal it gives when it fails."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, or_, select
from sqlalchemy import false as sa_false
from sqlalchemy.sql.elements import ColumnElement

from portal.core import clock
from portal.core.database import read
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.proposals.models import Proposal, Support
from portal.proposals.services._common import SUPPORTABLE, ProposalError, _proposals
from portal.proposals.services.reading import has_supported

# --- who may support: one rule, in SQL ------------------------------------------------------
#
# The rule lives in these expressions alone: the ORM path stores a support only where
# ``may_support`` holds and asks the same expressions why when it did not, the one-statement
# support is built from them, and the proposal page's ``support_standing`` evaluates them.


def _support_refusals(p, user_id, community_id, now) -> list[tuple[str, ColumnElement[bool]]]:
    """Each condition of the support, named by the refusal it gives when it fails, in the order
    the refusals are told. ``p`` is the proposals table; the others are SQL expressions (or
    values) for the resident and the time."""
    from portal.accounts.models import User
    from portal.blocks.models import Block

    b = cast(Table, Block.__table__)
    # The same number took part before, from an account since deleted: its support counts still.
    users, s = cast(Table, User.__table__), cast(Table, Support.__table__)
    me, gone = users.alias("me"), users.alias("gone")
    mine = select(me.c.phone_hmac).where(me.c.id == user_id).scalar_subquery()
    supported_before = (
        select(s.c.id)
        .join_from(s, gone, gone.c.id == s.c.user_id)
        .where(
            s.c.proposal_id == p.c.id,
            gone.c.erased_at.is_not(None),
            gone.c.phone_hmac == mine,
        )
        .exists()
    )
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
        ("supported_before", ~supported_before),
    ]


def may_support(p, user_id, community_id, now) -> ColumnElement[bool]:
    """The resident (``user_id`` of ``community_id``) may support the proposal of table ``p``
    at ``now``: a resident of its community, its window open, not hidden, not blocked there,
    and their number did not support it before from a deleted account."""
    return and_(*(rule for _code, rule in _support_refusals(p, user_id, community_id, now)))


@dataclass(frozen=True)
class SupportStanding:
    """The proposal page's support box: whether the reader supports it, may support it, and
    the support's own refusal when a resident of its community may not."""

    supported: bool
    can: bool
    refusal: str | None


def support_standing(user, p: Proposal) -> SupportStanding:
    """Whether the reader supports the proposal, may support it (``may_support``) and why
    not (``_refusal``'s words): one query for a resident of the proposal's community (the
    rules and the support row), ``has_supported``'s for anyone else signed in."""
    if not getattr(user, "is_authenticated", False):
        return SupportStanding(False, False, None)
    community_id = getattr(user, "community_id", None)
    if community_id is None or community_id != p.community_id:
        return SupportStanding(has_supported(user, p), False, None)
    codes, stmt = _standing_statement()
    params = {"proposal_id": p.id, "user_id": user.id, "community_id": community_id}
    row = read(stmt, {**params, "now": clock.now()}).one()
    failed = next((code for code, ok in zip(codes, row[1:], strict=True) if not ok), None)
    refusal = None if failed is None else _refusal_error(failed).message
    return SupportStanding(bool(row[0]), failed is None, refusal)


@cache
def _standing_statement() -> tuple[tuple[str, ...], Select]:
    """``support_standing``'s query, built once with the reader, the proposal and the time
    as bound parameters (building the rules cost more than running them)."""
    t, s = _proposals(), cast(Table, Support.__table__)
    user_id = bindparam("user_id", type_=s.c.user_id.type)
    community_id = bindparam("community_id", type_=t.c.community_id.type)
    now = bindparam("now", type_=t.c.closes_at.type)
    rules = _support_refusals(t, user_id, community_id, now)
    supported = select(s.c.id).where(s.c.proposal_id == t.c.id, s.c.user_id == user_id).exists()
    stmt = select(supported.label("supported"), *(rule.label(code) for code, rule in rules))
    stmt = stmt.where(t.c.id == bindparam("proposal_id", type_=t.c.id.type))
    return tuple(code for code, _rule in rules), stmt


def _first_failed(rules, values) -> str | None:
    return next((code for (code, _rule), ok in zip(rules, values, strict=True) if not ok), None)


def _refusal(p: Proposal, user_id: int, community_id) -> ProposalError:
    """Why the support of ``p`` was not stored: the first ``_support_refusals`` rule that
    fails, else it was stored already."""
    t = _proposals()
    rules = _support_refusals(t, user_id, community_id, clock.now())
    row = db.session.execute(
        select(*(rule.label(code) for code, rule in rules)).where(t.c.id == p.id)
    ).one()
    return _refusal_error(_first_failed(rules, row))


def _refusal_error(failed: str | None) -> ProposalError:
    """The refusal of the first failed rule; none failed: the support was there already."""
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
    if failed == "supported_before":
        return ProposalError(
            "supported_before",
            _("This mobile number already supported this proposal, from an account since deleted."),
            status=409,
        )
    return ProposalError("already_supported", _("You already support this proposal."))
