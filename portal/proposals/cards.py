"""The cards of proposal lists, read as rows and told in the reader's language.

A list page, the API's list and the home page show up to a hundred proposals. Loaded as ORM
objects, each cost about a hundred SQLAlchemy calls; rendered through macros (the status, the
progress bar), each card cost several hundred Jinja calls. Here a card is a row of the columns
it shows (``Card``), selected by statements built from the same predicates as the ORM queries,
and what it says (``CardView``) is worked out in Python with the rules the macros use
(``effective_status``, ``support_progress``): labels translated once a page, each link
formatted from one ``url_for``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Select, select

from portal.core.database import read
from portal.core.i18n import current_locale, gettext, localized, translations
from portal.core.templating import user_content, written_html
from portal.core.urls import url_maker
from portal.places.models import Community
from portal.proposals import hooks
from portal.proposals.models import Category, Proposal, Status, window_paused
from portal.proposals.services.labels import status_label
from portal.proposals.services.reading import can_read, effective_status, support_progress

# What a card of a list reads of a proposal (pages, the API's list items, the home page): its
# title, summary, status and window, counts, and the ids of its community and category. The
# text as written and its HTML (up to kilobytes a row), the review, photos and moderation notes
# stay in the database: each column read costs a conversion per row.
CARD_COLUMNS = (
    Proposal.id,
    Proposal.title,
    Proposal.summary,
    Proposal.status,
    Proposal.support_count,
    Proposal.threshold,
    Proposal.opened_at,
    Proposal.closes_at,
    Proposal.threshold_reached_at,
    Proposal.last_activity_at,
    Proposal.hidden,
    Proposal.hidden_at,
    Proposal.community_id,
    Proposal.category_id,
    Proposal.author_id,
)


class Card(NamedTuple):
    """A proposal as a list shows it: ``CARD_COLUMNS``, then its category and community."""

    id: int
    title: str
    summary: str
    status: Status
    support_count: int
    threshold: int | None
    opened_at: datetime | None
    closes_at: datetime | None
    threshold_reached_at: datetime | None
    last_activity_at: datetime
    hidden: bool
    hidden_at: datetime | None
    community_id: int
    category_id: int
    author_id: int
    category_code: str
    category_icon: str
    category_zh: str
    category_en: str
    community_code: str
    community_zh: str
    community_en: str

    @property
    def window_paused(self) -> bool:
        return window_paused(self.hidden, self.hidden_at, self.closes_at)


def select_cards() -> Select:
    """The SELECT of ``Card`` rows, to be narrowed with the list's own predicates."""
    return (
        select(
            *CARD_COLUMNS,
            Category.code,
            Category.icon,
            Category.name_zh,
            Category.name_en,
            Community.code,
            Community.name_zh,
            Community.name_en,
        )
        .join(Category, Category.id == Proposal.category_id)
        .join(Community, Community.id == Proposal.community_id)
    )


def cards(stmt: Select, params: dict | None = None) -> list[Card]:
    """The rows of ``stmt`` (a ``select_cards``) as cards, run on the session's connection:
    rows need none of the ORM's result handling (a seventh of a list's query). The session
    is flushed first, as it would flush itself before a query."""
    return [Card._make(row) for row in read(stmt, params).all()]


def cards_and_cases(stmt: Select, params: dict | None = None) -> tuple[list[Card], dict]:
    """``cards`` of ``stmt``, a ``select_cards`` with each proposal's case
    (``hooks.with_cases``), and {proposal id: case} of those that became one."""
    heads, found = hooks.cases_in(read(stmt, params).all(), len(Card._fields))
    return [Card._make(h) for h in heads], found


# What "my proposals" shows of its own cards beyond a list's: when each was written, the
# committee's review and moderation notes, and how it ended.
MINE_COLUMNS = (
    Proposal.created_at,
    Proposal.review_due_at,
    Proposal.review_note,
    Proposal.reject_reason,
    Proposal.duplicate_of_id,
    Proposal.withdrawn_at,
    Proposal.hidden_auto,
    Proposal.hidden_reason,
    Proposal.hidden_note,
)


class MineDetail(NamedTuple):
    """``MINE_COLUMNS`` of a card."""

    created_at: datetime
    review_due_at: datetime | None
    review_note: str | None
    reject_reason: str | None
    duplicate_of_id: int | None
    withdrawn_at: datetime | None
    hidden_auto: bool
    hidden_reason: str | None
    hidden_note: str | None


def select_mine() -> Select:
    """``select_cards`` with ``MINE_COLUMNS`` after the card's."""
    return select_cards().add_columns(*MINE_COLUMNS)


# The columns of a ``select_mine`` row.
MINE_WIDTH = len(Card._fields) + len(MINE_COLUMNS)


def split_mine(rows) -> list[tuple[Card, MineDetail]]:
    """Rows of ``select_mine`` as (card, detail)."""
    n = len(Card._fields)
    return [(Card._make(row[:n]), MineDetail._make(row[n:MINE_WIDTH])) for row in rows]


class CardView(NamedTuple):
    """What a card says, in the reader's language."""

    card: Card
    id: int
    url: str
    icon: str
    category: str  # the category's name
    community: str  # the community's name
    status: Status  # as the reader sees it: expired once its window closed
    status_label: str
    title: str
    summary: str
    threshold: int  # 0 without one (no progress bar)
    value: int  # supports, up to the threshold (the bar's value)
    percent: int
    reached: bool
    progress: str  # "12 of 50 supports", or the threshold reached
    days_left: str  # "3 days left" while open, else ""


def views(items: Iterable[Card], now: datetime) -> list[CardView]:
    """The cards' views, as ``_macros/proposals.html``'s ``progress`` and ``status_tag`` say
    them."""
    locale = current_locale()
    of = gettext("%(n)d of %(t)d supports")  # formatted below, card by card
    ngettext = translations().ungettext  # named so that the catalogue's extraction finds it
    url = url_maker("proposals.show", "proposal_id")
    labels: dict[Status, str] = {}
    out = []
    for p in items:
        st = effective_status(p)
        label = labels.get(st)
        if label is None:
            label = labels[st] = status_label(st)
        threshold = p.threshold or 0
        value = percent = 0
        reached = False
        progress = days = ""
        if threshold:
            g = support_progress(p, now)
            value, percent, reached = g.value, g.percent, g.reached
            count = p.support_count
            if reached:
                progress = ngettext(
                    "%(num)d support — threshold of %(t)d reached",
                    "%(num)d supports — threshold of %(t)d reached",
                    count,
                ) % {"num": count, "t": threshold}
            else:
                progress = of % {"n": count, "t": threshold}
            if st is Status.open and p.closes_at is not None:
                days = ngettext("%(num)d day left", "%(num)d days left", g.days_left) % {
                    "num": g.days_left
                }
        out.append(
            CardView(
                p,
                p.id,
                url(p.id),
                p.category_icon,
                localized(p.category_zh, p.category_en, locale),
                localized(p.community_zh, p.community_en, locale),
                st,
                label,
                p.title,
                p.summary,
                threshold,
                value,
                percent,
                reached,
                progress,
                days,
            )
        )
    return out


def proposal_title(p) -> Markup:
    """A proposal's title as lists of cases and supports show it: a placeholder instead once
    the reader may not see it (``can_read``, which reads the proposal's own columns: an object
    or a row). A function, not a macro: it is on every row."""
    if can_read(current_user, p):
        return user_content(p.title)
    text = Markup(gettext("Hidden proposal #%(id)d", id=p.id))  # noqa: S704  # nosec B704
    return Markup('<span class="muted">') + text + Markup("</span>")


def status_tag(status: Status, label: str | None = None) -> Markup:
    """A proposal's status as a tag (``label`` its words when already looked up). The one
    place this markup is written: the list's cards and the templates' ``status_tag``."""
    text = escape(status_label(status) if label is None else label)
    return written_html(f'<span class="status status-{escape(status.value)}">{text}</span>')


def progress_bar(c: CardView, label: str) -> Markup:
    """A card's progress toward its threshold (nothing without one): a native <progress>
    named ``label`` (translated once a page), the supports in words, the percentage or the
    mark of the threshold reached, and the days left while open. The one place this markup
    is written: the list's cards, and ``bar`` in templates (the home page, "my proposals")."""
    if not c.threshold:
        return Markup("")
    done = ' <span aria-hidden="true">✓</span>' if c.reached else f" ({int(c.percent)}%)"
    days = f" · {escape(c.days_left)}" if c.days_left else ""
    html = (
        '      <div class="progress-block">\n'
        f'        <progress value="{int(c.value)}" max="{int(c.threshold)}" '
        f'aria-label="{escape(label)}">{int(c.percent)}%</progress>\n'
        f'        <p class="progress-text"><strong>{escape(c.progress)}</strong>{done}\n'
        f"          {days}\n        </p>\n      </div>"
    )
    return written_html(html)


def card_list(
    items: list[CardView], mine, cases: dict, case_parts: Callable[[Any], tuple[Markup, Markup]]
) -> Markup:
    """The cards of a list page, written out in Python: as a macro each card cost some two
    hundred calls, most of them Jinja's for each value shown. ``mine`` the ids the reader
    supports; ``cases`` (``hooks.cases_of``) the case of each proposal that became one, told by
    ``case_parts`` (given by the composition layer: cases are not this feature's) as its stage
    (the status tag) and its line. Every value is escaped; the words are translated once."""
    you_support = escape(gettext("You support this"))
    bar_label = escape(gettext("Support toward the threshold"))
    out = ['<ul class="cards">']
    for c in items:
        case = cases.get(c.id)
        status: str
        line: str
        if case is not None:
            status, line = case_parts(case)
        else:
            status = status_tag(c.status, c.status_label)
            line = ""
        tag = f'<span class="tag">{you_support}</span>' if c.id in mine else ""
        out.append(
            '\n    <li class="card proposal-card">\n      <p class="meta"><span aria-hidden="true">'
            f"{escape(c.icon)}</span> {escape(c.category)} · {status}\n        {tag}</p>\n"
            f'      <h2 class="card-title"><a href="{escape(c.url)}">'
            f"{user_content(c.title)}</a></h2>\n"
            f'      <p class="user-content">{escape(c.summary)}</p>\n'
        )
        if c.threshold:
            out += (progress_bar(c, bar_label), "\n")
        out.append(f"      {line}\n    </li>")
    out.append("\n  </ul>")
    return written_html("".join(out))
