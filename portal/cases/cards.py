"""The cards of the staff's case lists (an agency's, a supervisor's, a grid worker's), read as
rows and told in the reader's language.

Loaded as ORM cases with their proposals and communities, a page of 25 cost some 4,000 calls
before it was shown; rendered piece by piece, each card cost a translated string, two
filters and a name lookup more. Here a card is a row of the columns it shows
(``WorkspaceRow``), and what it says (``WorkspaceCard``) is worked out in Python with the
rules the page used (``cases.is_overdue``, ``proposals.cards.proposal_title``): labels
translated once a page, each link formatted from one ``url_for``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from markupsafe import Markup, escape
from sqlalchemy import Select

from portal.cases import services as cases
from portal.cases.models import Case, CaseState
from portal.core.database import read
from portal.core.i18n import (
    current_locale,
    datetime_formatter,
    found_city_timezone,
    gettext,
    localized,
)
from portal.core.templating import written_html
from portal.core.urls import url_maker
from portal.extensions import db
from portal.places.models import Community
from portal.places.services import city_timezone_column
from portal.proposals.cards import proposal_title
from portal.proposals.models import Proposal
from portal.proposals.models import Status as ProposalStatus
from portal.roles.models import Agency


class ProposalTitle(NamedTuple):
    """What a case's card reads of its proposal: its title, with what ``proposal_title`` asks
    (``proposals.can_read``)."""

    id: int
    title: str
    status: ProposalStatus
    hidden: bool
    author_id: int
    community_id: int

    @property
    def community(self) -> Community | None:
        # Asked by ``proposals.is_visible`` only of a proposal not yet public, which no case's
        # proposal is: looked up as a lazy load would, from the session.
        return db.session.get(Community, self.community_id)


# The columns of ``ProposalTitle``, in its order.
_PROPOSAL_TITLE = (
    Proposal.id,
    Proposal.title,
    Proposal.status,
    Proposal.hidden,
    Proposal.author_id,
    Proposal.community_id,
)


class WorkspaceRow(NamedTuple):
    """A case as a workspace list reads it."""

    id: int
    number: str
    state: CaseState
    stage_due_at: datetime | None
    updated_at: datetime
    community_zh: str
    community_en: str
    proposal: ProposalTitle


def _reading(stmt: Select, named, on, *columns) -> Select:
    """``stmt`` (a ``select(Case)`` narrowed by a list's predicates) reading ``columns``, then
    a ``ProposalTitle``, instead of whole cases: ``named`` (what a row names, joined ``on``)
    and the proposal joined."""
    return (
        stmt.with_only_columns(*columns, *_PROPOSAL_TITLE)
        .join_from(Case, named, on)
        .join_from(Case, Proposal, Proposal.id == Case.proposal_id)
    )


def _run(row: Any, stmt: Select, params: dict | None = None) -> list:
    """The rows of ``stmt`` (a ``_reading``) as ``row``s, its last field the ``ProposalTitle``,
    run on the session's connection (flushed first, as a query would flush)."""
    n = len(row._fields) - 1
    return [row._make((*r[:n], ProposalTitle._make(r[n:]))) for r in read(stmt, params).all()]


def select_rows(stmt: Select) -> Select:
    """``stmt`` reading the columns of ``WorkspaceRow``."""
    return _reading(
        stmt,
        Community,
        Community.id == Case.community_id,
        Case.id,
        Case.number,
        Case.state,
        Case.stage_due_at,
        Case.updated_at,
        Community.name_zh,
        Community.name_en,
    )


def rows(stmt: Select) -> list[WorkspaceRow]:
    """The rows of ``stmt`` (a ``select_rows``)."""
    return _run(WorkspaceRow, stmt)


class WorkspaceCard(NamedTuple):
    """What a workspace card says, in the reader's language."""

    number: str
    url: str
    late: bool
    community: str
    state: str  # the state's label
    title: Markup  # the proposal's title, or the placeholder of a hidden one
    due: Markup  # "Due …", or nothing
    accept: Markup  # the accept button's words, or nothing when the card has none


def views(items: list[WorkspaceRow], *, accept: bool) -> list[WorkspaceCard]:
    """The cards of ``items``; with ``accept`` (an agency's list) a dispatched case has the
    button that accepts it."""
    locale = current_locale()
    when = datetime_formatter("short")
    due_text = gettext("Due %(when)s")
    accept_text = gettext("Accept %(number)s")
    url = url_maker("cases.show", "number")
    none = Markup("")
    states: dict[CaseState, str] = {}
    out = []
    for c in items:
        label = states.get(c.state)
        if label is None:
            label = states[c.state] = cases.state_label(c.state)
        out.append(
            WorkspaceCard(
                c.number,
                url(c.number),
                cases.is_overdue(c),  # type: ignore[arg-type]  # reads state and stage_due_at
                localized(c.community_zh, c.community_en, locale),
                label,
                proposal_title(c.proposal),
                written_html(due_text % {"when": escape(when(c.stage_due_at))})
                if c.stage_due_at
                else none,
                written_html(accept_text % {"number": escape(c.number)})
                if accept and c.state is CaseState.dispatched
                else none,
            )
        )
    return out


class ListRow(NamedTuple):
    """A case as the public list reads it."""

    id: int
    number: str
    state: CaseState
    stage_due_at: datetime | None
    agency_zh: str
    agency_en: str
    city_timezone: str | None  # the same on every row: the page's dates need it
    proposal: ProposalTitle


def _with_agency(stmt: Select, *columns) -> Select:
    """``_reading`` the case's ``columns`` and its agency's names, then its proposal."""
    return _reading(
        stmt, Agency, Agency.id == Case.agency_id, *columns, Agency.name_zh, Agency.name_en
    )


def select_list_rows(stmt: Select) -> Select:
    """``stmt`` reading the columns of ``ListRow``: the city's time zone comes along, so that
    the list's dates ask for it in no statement of their own."""
    return _reading(
        stmt,
        Agency,
        Agency.id == Case.agency_id,
        *(Case.id, Case.number, Case.state, Case.stage_due_at),
        *(Agency.name_zh, Agency.name_en, city_timezone_column()),
    )


def list_rows(stmt: Select, params: dict | None = None) -> list[ListRow]:
    """The rows of ``stmt`` (a ``select_list_rows``), with ``params`` its values; the city's
    time zone they bring is the request's (``core.i18n.found_city_timezone``)."""
    rows = _run(ListRow, stmt, params)
    if rows:
        found_city_timezone(rows[0].city_timezone)
    return rows


class ListCard(NamedTuple):
    """A row of the public list, in the reader's language."""

    number: str
    url: str
    title: Markup
    agency: str
    state: str  # the state's label
    late: bool
    due: str  # the stage's due date, or "" without one


def list_views(items: list[ListRow]) -> list[ListCard]:
    locale = current_locale()
    when = datetime_formatter("short")
    url = url_maker("cases.show", "number")
    states: dict[CaseState, str] = {}
    out = []
    for c in items:
        label = states.get(c.state)
        if label is None:
            label = states[c.state] = cases.state_label(c.state)
        out.append(
            ListCard(
                c.number,
                url(c.number),
                proposal_title(c.proposal),
                localized(c.agency_zh, c.agency_en, locale),
                label,
                cases.is_overdue(c),  # type: ignore[arg-type]  # reads state and stage_due_at
                when(c.stage_due_at) if c.stage_due_at else "",
            )
        )
    return out


def list_table(cards: list[ListCard]) -> Markup:
    """The public list's table: on a phone each cell says its column (``data-label``,
    ``table.stack`` in main.css). Every value escaped; the words translated once a page."""
    cols = [gettext("Case"), gettext("Title"), gettext("Agency"), gettext("State"), gettext("Due")]
    c0, c1, c2, c3, c4 = cols = [escape(c) for c in cols]
    overdue = escape(gettext("Overdue"))
    head = "".join(f'<th scope="col">{c}</th>' for c in cols)
    rows = []
    for c in cards:
        late = f' <span class="tag warn">{overdue}</span>' if c.late else ""
        rows.append(
            f'<tr><td data-label="{c0}" class="code"><a href="{escape(c.url)}">'
            f'{escape(c.number)}</a></td><td data-label="{c1}">{escape(c.title)}</td>'
            f'<td data-label="{c2}">{escape(c.agency)}</td>'
            f'<td data-label="{c3}">{escape(c.state)}{late}</td>'
            f'<td data-label="{c4}">{escape(c.due) if c.due else "—"}</td></tr>'
        )
    body = "".join(rows)
    return written_html(
        f'<table class="stack"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


class ResolvedRow(NamedTuple):
    """A resolved case as the home page reads it."""

    number: str
    closed_at: datetime
    agency_zh: str
    agency_en: str
    proposal: ProposalTitle


def select_resolved_rows(stmt: Select) -> Select:
    """``stmt`` reading the columns of ``ResolvedRow``."""
    return _with_agency(stmt, Case.number, Case.closed_at)


class ResolvedCard(NamedTuple):
    """A resolved case, in the reader's language."""

    number: str
    url: str
    title: Markup
    agency: str
    closed: str  # the day it closed


def resolved_views(stmt: Select, params: dict) -> list[ResolvedCard]:
    """The cards of ``stmt`` (a ``select_resolved_rows``) run with ``params``."""
    locale = current_locale()
    when = datetime_formatter("medium")
    url = url_maker("cases.show", "number")
    return [
        ResolvedCard(
            c.number,
            url(c.number),
            proposal_title(c.proposal),
            localized(c.agency_zh, c.agency_en, locale),
            when(c.closed_at),
        )
        for c in _run(ResolvedRow, stmt, params)
    ]


def case_status(case) -> Markup:
    """A proposal's status once it became a case: the case's stage, as a tag. The one place
    this markup is written (a list's cards, and the templates' ``proposal_status``)."""
    return written_html(
        f'<span class="status status-case-{escape(case.state.value)}">'
        f"{escape(cases.stage_text(case))}</span>"
    )


class CaseLines:
    """The line that tells of the case a proposal became, wherever the proposal shows (a
    list's cards, the home page, "my proposals", its own page): the case's number (a link,
    unless ``link`` is false), its agency, the limit that runs now (``dl``, from
    ``cases.deadline``) with the working days left or overdue when counted, and when it
    closed. Made once a page (``case_lines()`` in a template): its words translated and its
    link built once, each line then written out directly rather than through a macro."""

    def __init__(self) -> None:
        self.ready = False  # made at the first line: a page without a case asks nothing

    def _make(self) -> None:
        self.locale = current_locale()
        self.url = url_maker("cases.show", "number")
        self.when = datetime_formatter("medium")
        self.case_text = gettext("Case %(number)s")
        self.closed_text = gettext("closed %(when)s")
        self.ready = True

    def __call__(self, case, dl=None, link: bool = True) -> Markup:
        if not self.ready:
            self._make()
        number = self.case_text % {"number": escape(case.number)}
        if link:
            number = f'<a href="{escape(self.url(case.number))}">{number}</a>'
        html = f'<p class="case-line">{number}\n    · {escape(case.agency.name(self.locale))}'
        if dl:
            due = dl.due_at
            html += (
                f' · {escape(dl.label)} <time datetime="{due.isoformat()}">'
                f"{escape(self.when(due))}</time>"
            )
            remaining = dl.remaining
            if remaining:
                kind = "tag warn" if dl.overdue else "remaining"
                html += f' <span class="{kind}">{escape(remaining)}</span>'
        if case.closed_at:
            html += " · " + self.closed_text % {"when": escape(self.when(case.closed_at))}
        return written_html(html + "</p>")


class CaseParts:
    """What a proposal's card in a list says of its case (``proposals.cards.card_list``): its
    stage, as the card's status tag, and its line with the limit that runs now (not counted
    in working days: a list asks no calendar)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.lines = CaseLines()

    def __call__(self, case) -> tuple[Markup, Markup]:
        return case_status(case), self.lines(case, cases.deadline(case, count=False, now=self.now))
