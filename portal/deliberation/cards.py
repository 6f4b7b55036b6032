"""The cards of the moderation queue, told in the reader's language.

A page of the queue shows up to 25 reported items, each with its select box, its counts, its
waiting time, a link and the reasons given. Rendered piece by piece in the template, each card
cost several hundred Jinja calls (a translated string, a link, a name filter, an escape per
interpolation). Here what a card says (``QueueCard``) is worked out in Python from the queue's
items (``services.queue``): each translated text looked up once a page and formatted per
card, each link formatted from one ``url_for``; ``queue_list`` writes them out (a macro cost
some eighty calls a card more).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from markupsafe import Markup, escape

from portal.core.i18n import gettext, translations
from portal.core.templating import user_content, waiting, written_html
from portal.core.urls import url_maker
from portal.deliberation import targets


class QueueCard(NamedTuple):
    """A reported item as the queue shows it."""

    key: str  # "comment:5", the select box's value
    checked: bool
    select_label: Markup  # "Select comment #5"
    waited: float  # seconds since its first open report
    meta: Markup  # "3 reports · waiting 4 days"
    hidden: bool
    hidden_auto: bool
    is_proposal: bool
    url: str
    title: str  # a proposal's title
    summary: str  # a proposal's summary
    byline: Markup  # "Comment by …" (not for a proposal)
    text: str  # what the item says (not for a proposal)
    reasons: list[tuple[Markup, int]]  # the reasons given, each with how many gave it
    notes: list[str]


def _reason(shown: dict[str, Markup], labels: Mapping[str, Any], code: str) -> Markup:
    """A reason's label, translated for the page the first time a card shows it; our
    catalogue's text, or the code as given."""
    label = labels.get(code)
    shown[code] = written_html(str(label)) if label is not None else escape(code)
    return shown[code]


def queue_cards(
    items: list[dict[str, Any]],
    *,
    selected: set[str],
    labels: Mapping[str, Any],
    now: datetime,
) -> list[QueueCard]:
    """The cards of ``items`` (``services.queue``); ``selected`` the keys ticked, ``labels``
    the report reasons' labels by code (lazy strings: each translated once a page, when a
    card shows it)."""
    select_label = gettext("Select %(kind)s #%(id)d")
    comment_by = gettext("Comment by %(name)s")
    kind_by = gettext("%(kind)s by %(name)s")
    ngettext = translations().ungettext  # named so that the catalogue's extraction finds it
    proposal_url = url_maker("proposals.show", "proposal_id")
    nouns: dict[str, str] = {}
    counts: dict[int, str] = {}
    reasons: dict[str, Markup] = {}
    out = []
    for it in items:
        kind_name, ident, o = it["target_type"], it["target_id"], it["object"]
        noun = nouns.get(kind_name)
        if noun is None:
            noun = nouns[kind_name] = str(escape(targets.noun(kind_name)))
        key = f"{kind_name}:{ident}"
        waited = (now - it["first_report_at"]).total_seconds()
        n = it["reports"]
        reports = counts.get(n)
        if reports is None:
            reports = counts[n] = ngettext("%(num)d report", "%(num)d reports", n) % {"num": n}
        meta = written_html(f"{reports} · {waiting(waited)}")
        title = summary = text = ""
        byline = Markup("")
        if kind_name == "proposal":
            url = proposal_url(o.id)
            title, summary = o.title, o.summary
        else:
            name = user_content(it["author_name"])
            if kind_name == "comment":
                url = proposal_url(o.proposal_id) + f"#comment-{o.id}"
                byline = written_html(comment_by % {"name": name})
            else:
                url = it["kind"].url(o)
                byline = written_html(kind_by % {"kind": noun, "name": name})
            text = it["kind"].text(o)
        out.append(
            QueueCard(
                key,
                key in selected,
                written_html(select_label % {"kind": noun, "id": ident}),
                waited,
                meta,
                o.hidden,
                o.hidden_auto,
                kind_name == "proposal",
                url,
                title,
                summary,
                byline,
                text,
                [
                    (reasons.get(code) or _reason(reasons, labels, code), k)
                    for code, k in it["reasons"]
                ],
                it["notes"],
            )
        )
    return out


OVERDUE_SECONDS = 3 * 24 * 3600  # a report waiting longer is marked on its card


def queue_list(cards: list[QueueCard]) -> Markup:
    """The cards as the queue's list: each with its select box, what it is and what the
    reporters said. Every value escaped (or already ``Markup``: labels from our catalogue,
    names through ``user_content``)."""
    t_reasons, t_notes = (
        escape(gettext("Reasons given:")),
        escape(gettext("What the reporters wrote:")),
    )
    t_hidden, t_auto = escape(gettext("hidden")), escape(gettext("automatically"))
    out = ['<ul class="cards">']
    add = out.append
    for c in cards:
        overdue = " overdue" if c.waited > OVERDUE_SECONDS else ""
        checked = " checked" if c.checked else ""
        add(
            f'<li class="card{overdue}"><label class="check"><input type="checkbox" name="target"'
            f' value="{escape(c.key)}"{checked}> {escape(c.select_label)}</label>'
            f'<p class="meta">{escape(c.meta)}'
        )
        if c.hidden:
            auto = f" ({t_auto})" if c.hidden_auto else ""
            add(f' · <span class="tag warn">{t_hidden}{auto}</span>')
        add("</p>")
        url = escape(c.url)
        if c.is_proposal:
            add(
                f'<h3 class="card-title"><a href="{url}"><span class="user-content">'
                f'{escape(c.title)}</span></a></h3><p class="user-content">{escape(c.summary)}</p>'
            )
        else:
            add(
                f'<p><a href="{url}">{escape(c.byline)}</a></p>'
                f'<blockquote class="user-content">{escape(c.text)}</blockquote>'
            )
        if c.reasons:
            given = ", ".join(
                f'<span class="tag-plain">{escape(label)}{f" ×{n}" if n > 1 else ""}</span>'
                for label, n in c.reasons
            )
            add(f'<p class="report-reasons">{t_reasons} {given}</p>')
        if c.notes:
            notes = "".join(f'<li class="user-content">{escape(n)}</li>' for n in c.notes)
            add(f'<p class="small">{t_notes}</p><ul class="report-notes">{notes}</ul>')
        add("</li>")
    add("</ul>")
    return written_html("".join(out))
