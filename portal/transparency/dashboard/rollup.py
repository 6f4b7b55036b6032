"""Keeping the summary tables current.

On change: a listener on the session notes, at each flush, the proposals whose figures a
change touches (a proposal's step, a case's step or event, a feedback answer) and, just
before the transaction commits, recomputes those proposals' facts and applies the difference
to the daily sums by atomic increments (``INSERT … ON CONFLICT DO UPDATE SET n = n + …``), in
key order so concurrent writers never deadlock. The work is the changed proposal's, never the
table's.

On schedule: ``flask dashboard refresh`` revisits the facts still waiting whose time has come
(a response or handling limit that passed with nothing done turns late) and backfills any
proposal that has none; ``--all`` rebuilds both tables from the whole history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import Table, delete, event, inspect, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.cases.models import Case, CaseEvent, CaseFeedback
from portal.core import clock
from portal.core.i18n import city_timezone_name
from portal.extensions import db
from portal.proposals.models import Proposal
from portal.transparency.dashboard.facts import proposal_facts
from portal.transparency.dashboard.models import DashboardDaily, DashboardFact

KEY = ("day", "kind", "outcome", "community_id", "agency_id", "category_id", "bucket")
PENDING = "commons.dashboard_pending"
PROPOSAL_FIELDS = ("status", "submitted_at", "opened_at", "threshold_reached_at")
CASE_FIELDS = ("state", "closed_at", "reopen_count", "agency_id", "handling_due_at")


def city_tz() -> ZoneInfo:
    """The city's time zone, whose local days the figures are counted in."""
    return ZoneInfo(city_timezone_name())


def _changed(obj, fields: Iterable[str]) -> bool:
    state = inspect(obj)
    if state.pending or not state.persistent:
        return True
    return any(state.attrs[f].history.has_changes() for f in fields)


def _touched(session) -> tuple[set[int], set[int]]:
    proposals: set[int] = set()
    cases: set[int] = set()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Proposal) and _changed(obj, PROPOSAL_FIELDS):
            proposals.add(obj.id)
        elif isinstance(obj, Case) and _changed(obj, CASE_FIELDS):
            proposals.add(obj.proposal_id)
        elif isinstance(obj, CaseEvent | CaseFeedback):
            cases.add(obj.case_id)
    return proposals, cases


def install(app: Flask) -> None:
    """Connect the listener (called by ``create_app``; importing connects nothing). It listens
    on every ORM session, the app's and any other (a command's, a test's), as any of them may
    change a case."""
    if getattr(install, "_done", False):
        return
    install._done = True  # type: ignore[attr-defined]

    @event.listens_for(Session, "after_flush")
    def _note(session, _context):
        # After the flush new rows have their ids; new, dirty and each attribute's history
        # still show what the flush wrote.
        proposals, cases = _touched(session)
        if proposals or cases:
            pending = session.info.setdefault(PENDING, (set(), set()))
            pending[0].update(proposals)
            pending[1].update(cases)

    @event.listens_for(Session, "before_commit")
    def _apply(session):
        pending = session.info.pop(PENDING, None)
        if not pending:
            return
        session.flush()
        proposals, cases = pending
        extra = session.info.pop(PENDING, None)  # what that flush itself noted
        if extra:
            proposals |= extra[0]
            cases |= extra[1]
        proposals.discard(None)
        if cases - {None}:
            proposals |= set(
                session.scalars(select(Case.proposal_id).where(Case.id.in_(cases - {None})))
            )
        if proposals:
            refresh(sorted(proposals))

    @event.listens_for(Session, "after_rollback")
    def _forget(session):
        session.info.pop(PENDING, None)


def _load(ids: list[int]):
    props = {p.id: p for p in db.session.scalars(select(Proposal).where(Proposal.id.in_(ids)))}
    cases = {
        c.proposal_id: c for c in db.session.scalars(select(Case).where(Case.proposal_id.in_(ids)))
    }
    case_ids = [c.id for c in cases.values()]
    events: dict[int, list[CaseEvent]] = defaultdict(list)
    feedback: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if case_ids:
        for ev in db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id.in_(case_ids))
            .order_by(CaseEvent.case_id, CaseEvent.id)
        ):
            events[ev.case_id].append(ev)
        for case_id, user_id, score in db.session.execute(
            select(CaseFeedback.case_id, CaseFeedback.user_id, CaseFeedback.satisfaction).where(
                CaseFeedback.case_id.in_(case_ids)
            )
        ):
            feedback[case_id].append((user_id, score))
    return props, cases, events, feedback


def refresh(ids: list[int], now: datetime | None = None) -> int:
    """Recompute the facts of the proposals ``ids`` and apply the difference to the sums.
    Returns how many facts changed."""
    now = now or clock.now()
    tz = city_tz()
    props, cases, events, feedback = _load(ids)
    new: list[dict] = []
    for pid in ids:
        p = props.get(pid)
        if p is None:
            continue
        case = cases.get(pid)
        for fact in proposal_facts(
            p,
            case,
            events.get(case.id, []) if case else [],
            feedback.get(case.id, []) if case else [],
            now,
            tz,
        ):
            fact.setdefault("bucket", 0)
            fact.setdefault("answers", 0)
            fact.setdefault("satisfied", 0)
            fact.setdefault("decides_at", None)
            fact["agency_id"] = fact["agency_id"] or 0
            new.append({"proposal_id": pid, "case_id": case.id if case else None, **fact})
    old = [
        {c: getattr(f, c) for c in (*KEY, "answers", "satisfied")}
        for f in db.session.scalars(select(DashboardFact).where(DashboardFact.proposal_id.in_(ids)))
    ]
    delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for sign, rows in ((-1, old), (1, new)):
        for f in rows:
            d = delta[tuple(f[k] for k in KEY)]
            d[0] += sign
            d[1] += sign * f["answers"]
            d[2] += sign * f["satisfied"]
    db.session.execute(delete(DashboardFact).where(DashboardFact.proposal_id.in_(ids)))
    if new:
        db.session.execute(sa_insert(DashboardFact), new)
    changes = {k: v for k, v in delta.items() if any(v)}
    for key in sorted(changes, key=lambda k: tuple(str(x) for x in k)):
        _add(dict(zip(KEY, key, strict=True)), *changes[key])
    return len(changes)


def _add(key: dict, n: int, answers: int, satisfied: int) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, DashboardDaily.__table__)
    stmt = insert(table).values(**key, n=n, answers=answers, satisfied=satisfied)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={
            "n": table.c.n + n,
            "answers": table.c.answers + answers,
            "satisfied": table.c.satisfied + satisfied,
        },
    )
    db.session.execute(stmt)


def due_for_refresh(now: datetime) -> list[int]:
    """Proposals whose waiting facts' time has come, and submitted ones without facts."""
    waiting = select(DashboardFact.proposal_id).where(
        DashboardFact.outcome == "waiting", DashboardFact.decides_at < now
    )
    missing = select(Proposal.id).where(
        Proposal.submitted_at.is_not(None),
        ~select(DashboardFact.id).where(DashboardFact.proposal_id == Proposal.id).exists(),
    )
    return sorted(set(db.session.scalars(waiting)) | set(db.session.scalars(missing)))


def rebuild_start() -> None:
    db.session.execute(delete(DashboardFact))
    db.session.execute(delete(DashboardDaily))


def all_proposal_ids() -> list[int]:
    return list(
        db.session.scalars(
            select(Proposal.id).where(Proposal.submitted_at.is_not(None)).order_by(Proposal.id)
        )
    )
