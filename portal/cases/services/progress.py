"""Where a case stands, in words: its stage, the deadline that runs now (named for what it is,
with the working days left or overdue), its outcome once closed, and the steps it went through.

One rule for all the places that show a case's state: the case page, the proposal it came
from (its page, the lists' cards, "my proposals"), and the API's ``case`` object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, or_, select

from portal.cases.calendar import exceptions_between, working_days_after
from portal.cases.models import Case, CaseEvent, CaseState
from portal.cases.services._common import C
from portal.cases.services.labels import close_reason_label, state_label
from portal.core import clock
from portal.core.database import read
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.i18n import local, localized, ngettext, table_label
from portal.proposals.models import Proposal
from portal.roles.models import Agency

# --- the deadline that runs now --------------------------------------------------------------

# Which time limit ``stage_due_at`` holds in each state (returned and closed have none).
DEADLINE_KINDS = {
    C.dispatched: "acceptance",
    C.accepted: "handling",
    C.in_progress: "handling",
    C.verifying: "verification",
}

_DEADLINE_LABELS = {
    "acceptance": _l("Acceptance due"),
    "handling": _l("Handling due"),
    "verification": _l("Verification due"),
}


@dataclass(frozen=True)
class Deadline:
    kind: str  # acceptance | handling | verification
    due_at: datetime
    overdue: bool
    # Working days of the city calendar left (or, overdue, past); None when not counted.
    working_days: int | None = None

    @property
    def label(self) -> str:
        return table_label(_DEADLINE_LABELS, self.kind)

    @property
    def remaining(self) -> str:
        """ "3 working days left", "Due today", "Overdue by 2 working days", … ("" uncounted)."""
        n = self.working_days
        if n is None:
            return _("Overdue") if self.overdue else ""
        if self.overdue:
            if n == 0:
                return _("Overdue by less than a working day")
            return ngettext("Overdue by %(num)d working day", "Overdue by %(num)d working days", n)
        if n == 0:
            return _("Due today")
        return ngettext("%(num)d working day left", "%(num)d working days left", n)


def deadline_label(kind: str) -> str:
    return table_label(_DEADLINE_LABELS, kind)


def working_days_left(due_at: datetime, now: datetime | None = None) -> tuple[bool, int]:
    """(overdue, n): the working days of the city calendar from today to ``due_at``'s day, or,
    once ``due_at`` has passed, from its day to today. Local days in the city's time zone: a
    limit at the end of Friday seen on Monday morning is one working day overdue; seen on
    Thursday, one working day is left (Friday)."""
    now = now or clock.now()
    today, due_day = local(now).date(), local(due_at).date()  # type: ignore[union-attr]
    overdue = due_at < now
    start, end = (due_day, today) if overdue else (today, due_day)
    return overdue, working_days_after(start, end, exceptions_between(start, end))


def deadline(
    case: Case | CaseBrief, *, count: bool = True, now: datetime | None = None
) -> Deadline | None:
    """The limit that runs in the case's current state, or None (returned, closed). ``count``
    the working days (one calendar query); lists leave it out and say only whether it is
    overdue."""
    kind = DEADLINE_KINDS.get(case.state)
    if kind is None or case.stage_due_at is None:
        return None
    now = now or clock.now()
    if count:
        overdue, n = working_days_left(case.stage_due_at, now)
        return Deadline(kind, case.stage_due_at, overdue, n)
    return Deadline(kind, case.stage_due_at, case.stage_due_at < now)


# --- the stage in words ----------------------------------------------------------------------


class CaseStage(NamedTuple):
    """What ``stage_text`` reads of a case, with its id and its proposal's: a notification
    tells a case's stage now."""

    id: int
    proposal_id: int
    state: CaseState
    close_reason: str | None
    reopen_count: int


@cache
def _stages():
    return select(
        Case.id, Case.proposal_id, Case.state, Case.close_reason, Case.reopen_count
    ).where(
        or_(
            Case.id.in_(bindparam("ids", expanding=True)),
            Case.proposal_id.in_(bindparam("proposal_ids", expanding=True)),
        )
    )


def case_stages(case_ids, proposal_ids) -> tuple[dict[int, CaseStage], dict[int, CaseStage]]:
    """The stages of the cases of ``case_ids`` and of the cases ``proposal_ids`` became, in
    one query: (by case id, by proposal id)."""
    ids, pids = sorted(set(case_ids)), sorted(set(proposal_ids))
    if not ids and not pids:
        return {}, {}
    rows = [CaseStage._make(r) for r in read(_stages(), {"ids": ids, "proposal_ids": pids}).all()]
    wanted, wanted_proposals = set(ids), set(pids)
    return (
        {r.id: r for r in rows if r.id in wanted},
        {r.proposal_id: r for r in rows if r.proposal_id in wanted_proposals},
    )


def outcome(case: Case | CaseBrief | CaseStage) -> str | None:
    """How a closed case ended ("Resolved and verified", "Duplicate case", …), else None."""
    return close_reason_label(case.close_reason) if case.state == C.closed else None


def stage_text(case: Case | CaseBrief | CaseStage) -> str:
    """The case's stage in a few words, for every place a proposal's status shows."""
    if case.state == C.closed:
        return _("Closed: %(outcome)s", outcome=outcome(case) or "")
    if case.state == C.in_progress and case.reopen_count:
        return _("Reopened for rework")
    return state_label(case.state)


# --- the steps -------------------------------------------------------------------------------

# Named as stages (立案, 派遣, …), not as steps done ("Filed"): most are still ahead.
_STEP_LABELS = {
    "file": _l("Filing"),
    "dispatch": _l("Dispatch"),
    "return": _l("Return"),
    "accept": _l("Acceptance"),
    "handle": _l("Handling"),
    "rework": _l("Rework"),
    "verify": _l("Verification"),
    "close": _l("Closure"),
}

# The regular path; "return" and "rework" show only where they happened.
MAIN_STEPS = ("file", "dispatch", "accept", "handle", "verify", "close")

# Which step a timeline event belongs to (events not listed stay inside their step).
_EVENT_STEP = {
    "file": "file",
    "dispatch": "dispatch",
    "reroute": "dispatch",
    "return": "return",
    "accept": "accept",
    "plan": "handle",
    "progress": "handle",
    "resolve": "verify",
    "reopen": "rework",
    "close": "close",
}

# The step a case in each state is at, when its last event has not reached it yet.
_CURRENT_STEP = {
    C.dispatched: "accept",
    C.returned: "return",
    C.accepted: "handle",
    C.verifying: "verify",
    C.closed: "close",
}


@dataclass(frozen=True)
class Step:
    key: str
    at: datetime | None  # when the case reached it (None: not yet)
    current: bool = False

    @property
    def label(self) -> str:
        return table_label(_STEP_LABELS, self.key)

    @property
    def done(self) -> bool:
        return self.at is not None and not self.current


def steps(case: Case, events: list[CaseEvent]) -> list[Step]:
    """The steps in the order they happened (a return or a rework where it came), the one the
    case is at marked current, then the regular steps still ahead."""
    reached: list[list] = []  # [key, at]
    for e in events:
        key = _EVENT_STEP.get(e.action)
        if key is None:
            continue
        if key == "handle" and reached and reached[-1][0] in ("handle", "rework"):
            continue  # progress notes and plans inside handling, or handling a rework
        if not reached or reached[-1][0] != key:
            reached.append([key, e.created_at])
    if case.state == C.in_progress:
        current = reached[-1][0] if reached and reached[-1][0] in ("handle", "rework") else "handle"
    else:
        current = _CURRENT_STEP[case.state]
    out = [Step(key, at) for key, at in reached]
    if out and out[-1].key == current:
        out[-1] = Step(current, out[-1].at, current=True)
    else:
        out.append(Step(current, None, current=True))
    # What lies ahead: a return waits for dispatch again, a rework for verification.
    position = MAIN_STEPS.index({"return": "dispatch", "rework": "handle"}.get(current, current))
    out += [Step(key, None) for key in MAIN_STEPS[position + 1 :]]
    return out


# --- the cases of proposals ------------------------------------------------------------------


class AgencyName(NamedTuple):
    code: str
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return localized(self.name_zh, self.name_en, locale)


class CaseBrief(NamedTuple):
    """What a proposal's card, its API item and a notification tell of its case: its stage
    (``stage_text``), the limit that runs now (``deadline``) and its agency's name. Read as a
    row: a page of proposals loaded as many ORM cases and agencies cost more than the rest of
    its queries together."""

    proposal_id: int
    number: str
    state: CaseState
    stage_due_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    reopen_count: int
    agency: AgencyName


# What a ``CaseBrief`` reads, in its order.
BRIEF_COLUMNS = (
    Case.proposal_id,
    Case.number,
    Case.state,
    Case.stage_due_at,
    Case.closed_at,
    Case.close_reason,
    Case.reopen_count,
    Agency.code,
    Agency.name_zh,
    Agency.name_en,
)


def brief(values) -> CaseBrief:
    """The ``CaseBrief`` of a row's ``BRIEF_COLUMNS``."""
    agency = AgencyName(values[7], values[8], values[9])
    return CaseBrief(
        values[0], values[1], values[2], values[3], values[4], values[5], values[6], agency
    )


def with_briefs(stmt: Select) -> Select:
    """``stmt``, a SELECT of proposals, with ``BRIEF_COLUMNS`` after its own: each proposal's
    case outer-joined (NULLs for a proposal that is no case, at most one case each), so that a
    page of proposals reads its cases in its own statement."""
    return (
        stmt.outerjoin(Case, Case.proposal_id == Proposal.id)
        .outerjoin(Agency, Agency.id == Case.agency_id)
        .add_columns(*BRIEF_COLUMNS)
    )


@cache
def _briefs():
    return (
        select(*BRIEF_COLUMNS)
        .join(Agency, Agency.id == Case.agency_id)
        .where(Case.proposal_id.in_(bindparam("ids", expanding=True)))
    )


def cases_for_proposals(proposal_ids) -> dict[int, CaseBrief]:
    """The cases of these proposals by proposal id, in one query (with their agencies' names),
    for a page of proposals."""
    ids = sorted(set(proposal_ids))
    if not ids:
        return {}
    return {r[0]: brief(r) for r in read(_briefs(), {"ids": ids}).all()}


@dataclass(frozen=True)
class Milestone:
    """A step of the case told in the proposal's own history."""

    created_at: datetime
    text: str
    milestone: bool = True


def milestones(case: Case, events: list[CaseEvent], locale: str) -> list[Milestone]:
    """The case's steps that belong to the proposal's history: filed and dispatched ("Became
    case …, dispatched to …"), returned, re-routed, accepted, handled, reopened, closed."""
    out = []
    for e in events:
        agency = e.agency.name(locale) if e.agency is not None else ""
        if e.action == "dispatch":
            text = _(
                "Became case %(number)s, dispatched to %(agency)s",
                number=case.number,
                agency=agency,
            )
        elif e.action == "reroute":
            text = _("Case re-routed to %(agency)s", agency=agency)
        elif e.action == "return":
            text = _("Case returned by %(agency)s", agency=agency)
        elif e.action == "accept":
            text = _("Case accepted by %(agency)s", agency=agency)
        elif e.action == "resolve":
            text = _("%(agency)s published its official response", agency=agency)
        elif e.action == "reopen":
            text = _("Case reopened for rework")
        elif e.action == "close":
            text = _("Case closed: %(outcome)s", outcome=close_reason_label(case.close_reason))
        else:
            continue
        out.append(Milestone(e.created_at, text))
    return out
