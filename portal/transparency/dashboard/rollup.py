"""Keeping the summary tables current.

On change: a listener on the session notes, at each flush, the proposals whose figures a
change touches (a proposal's step, a case's step or event, a feedback answer) and, just
before the transaction commits, recomputes those proposals' facts and applies the difference
to the rollup's sums (each changed fact to its day and month rows of every scope it belongs
to) by atomic increments (``INSERT … ON CONFLICT DO UPDATE SET n = n + …``), in key order so
concurrent writers never deadlock. The work is the changed proposal's, never the table's.

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
from portal.places.models import Community, Street
from portal.proposals.models import Proposal
from portal.transparency.dashboard.facts import proposal_facts
from portal.transparency.dashboard.models import ROLLUP_KEY, DashboardFact, DashboardRollup

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
    _apply_to_rollup(changes)
    return len(changes)


def rollup_keys(fact: dict, district_id: int | None) -> list[tuple]:
    """The rollup rows (``ROLLUP_KEY`` tuples) one fact of key ``KEY`` adds to: the one rule
    of which rows a fact counts in, for the listener and the rebuild alike."""
    day, kind, outcome = fact["day"], fact["kind"], fact["outcome"]
    agency, category, bucket = fact["agency_id"], fact["category_id"], fact["bucket"]
    scopes = [("city", 0), ("community", fact["community_id"])]
    if district_id is not None:
        scopes.append(("district", district_id))
    if agency:
        scopes.append(("agency", agency))
    keys = []
    for grain, period in (("d", day), ("m", day.replace(day=1))):
        for scope, scope_id in scopes:
            keys.append((scope, scope_id, "", grain, period, kind, outcome, 0, bucket))
            if agency and kind != "submitted":  # the league table: case figures
                keys.append((scope, scope_id, "agency", grain, period, kind, outcome, agency, 0))
            if kind == "opened":  # the chart of cases by category
                keys.append(
                    (scope, scope_id, "category", grain, period, kind, outcome, category, 0)
                )
    return keys


def _districts(community_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(community_ids))
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Community.id, Street.district_id)
            .join(Street, Street.id == Community.street_id)
            .where(Community.id.in_(ids))
        ).all()
    )


def _apply_to_rollup(changes: dict[tuple, list[int]]) -> None:
    """Add the facts' changes (``KEY`` → [n, answers, satisfied]) to the rollup rows."""
    districts = _districts(key[KEY.index("community_id")] for key in changes)
    rows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, (n, answers, satisfied) in changes.items():
        fact = dict(zip(KEY, key, strict=True))
        for rkey in rollup_keys(fact, districts.get(fact["community_id"])):
            row = rows[rkey]
            row[0] += n
            row[1] += answers
            row[2] += satisfied
    ordered = [
        {**dict(zip(ROLLUP_KEY, k, strict=True)), "n": v[0], "answers": v[1], "satisfied": v[2]}
        for k, v in sorted(rows.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
        if any(v)
    ]
    if ordered:
        # One statement, many rows (executemany): compiled once, sent in the sorted order.
        db.session.execute(_upsert(db.session.get_bind().dialect.name), ordered)


_UPSERTS: dict[str, object] = {}


def _upsert(dialect: str):
    """``INSERT … ON CONFLICT (key) DO UPDATE SET n = n + excluded.n, …`` of a rollup row."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = cast(Table, DashboardRollup.__table__)
        base = insert(table)
        stmt = _UPSERTS[dialect] = base.on_conflict_do_update(
            index_elements=list(ROLLUP_KEY),
            set_={
                "n": table.c.n + base.excluded.n,
                "answers": table.c.answers + base.excluded.answers,
                "satisfied": table.c.satisfied + base.excluded.satisfied,
            },
        )
    return stmt


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
    db.session.execute(delete(DashboardRollup))


def all_proposal_ids() -> list[int]:
    return list(
        db.session.scalars(
            select(Proposal.id).where(Proposal.submitted_at.is_not(None)).order_by(Proposal.id)
        )
    )
