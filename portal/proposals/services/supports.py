"""Support to a threshold, exactly once: the ORM path, the one-statement path and unsupport."""

from __future__ import annotations

from typing import Any, cast

from flask import current_app, url_for
from sqlalchemy import Table, bindparam, delete, literal, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.selectable import Select

from portal.accounts.models import User
from portal.accounts.phones import check_may_take_part, needs_phone
from portal.core import clock
from portal.core.database import rowcount
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.notifications.services import notify
from portal.proposals.models import Proposal, ProposalEvent, Status, Support
from portal.proposals.services._common import ProposalError, S, _proposals
from portal.proposals.services.eligibility import _refusal, may_support
from portal.proposals.services.filing import _file
from portal.proposals.services.reading import window_open

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


def support(user: User, p: Proposal) -> int:
    check_may_take_part(user)
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
    # Where only numbers sign in, the token's account must have verified one (as
    # ``accounts.phones.needs_phone`` says); else the full path tells why not.
    who = "token" if "email" in current_app.config["SIGN_IN_METHODS"] else "token_phone"
    return _support_in_one(_one_statement_support(who), proposal_id, params)


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
        if who in ("token", "token_phone"):
            from portal.accounts.auth import lacks_second_factor, valid_token
            from portal.accounts.models import ApiToken

            tokens = cast(Table, ApiToken.__table__)
            resident = (
                select(users.c.id, users.c.community_id)
                .join_from(tokens, users, users.c.id == tokens.c.user_id)
                .where(
                    valid_token(tokens, users, bindparam("token_hash"), now),
                    ~lacks_second_factor(tokens, users),
                    users.c.community_id.is_not(None),
                )
            )
            if who == "token_phone":
                resident = resident.where(users.c.phone.is_not(None))
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
    if needs_phone(user):
        return None  # the full path says why
    params = {
        "proposal_id": proposal_id,
        "resident_community_id": community_id,
        "resident_id": user.id,
        "now": clock.now(),
    }
    return _support_in_one(_one_statement_support("resident"), proposal_id, params)


def _qualify_apart(proposal_id: int, reached=None) -> Status:
    """Qualify under a savepoint of the request's transaction, after the support that reached
    the threshold was stored. A case that cannot be filed leaves it qualified and waiting to
    be filed (``_file``, the policy of every path); any other failure is logged and rolled back
    to the savepoint, leaving it open for ``qualify_reached`` to retry, without undoing the
    support or failing its request. The request (or the sweep) commits, once."""
    try:
        with db.session.begin_nested():
            p = db.session.get_one(Proposal, proposal_id)
            _qualify(p, reached)
        return p.status
    except Exception:
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
