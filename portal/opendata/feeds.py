"""Atom feeds (RFC 4287), built with feedgen: new proposals city-wide and per community, case
updates per community and per agency, meetings per community.

Only what the public pages show: proposals in public statuses and not hidden, the public case
timeline (a hidden proposal's title left out), published meetings. Entry ids are tag URIs
(RFC 4151) on PUBLIC_URL's host and the row's id, so they stay the same from one fetch to the
next; links are built from PUBLIC_URL (``core.urls``), never from the request's Host.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.cases import services as cases
from portal.cases.models import Case, CaseEvent, CaseState
from portal.core.i18n import current_locale, fmt_datetime
from portal.core.i18n import gettext as _
from portal.core.urls import external_url
from portal.extensions import db
from portal.meetings import services as meetings
from portal.meetings.models import Meeting, MeetingState
from portal.places.models import Community
from portal.proposals import services as proposals
from portal.proposals.listing import PUBLIC_STATUSES
from portal.proposals.models import Proposal
from portal.roles.models import Agency

ENTRIES = 50
_TAG_YEAR = 2026  # the tag URIs' date: fixed for ever, or every entry id would change
# An empty feed's ``updated``: a fixed instant, so that it reads the same (and keeps its ETag)
# from one fetch to the next.
_EMPTY = datetime(_TAG_YEAR, 1, 1, tzinfo=UTC)


def tag(kind: str, ident: int | str) -> str:
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "commons.invalid"
    return f"tag:{host},{_TAG_YEAR}:{kind}:{ident}"


def _feed(kind: str, ident: str, title: str, page_url: str, stamps: Iterable[datetime]):
    fg = FeedGenerator()
    fg.id(tag(kind, ident))
    fg.title(title)
    fg.author({"name": _("Commons")})
    fg.link(href=page_url, rel="alternate", type="text/html")
    fg.link(href=external_url(request.endpoint or "", **(request.view_args or {})), rel="self")
    fg.language("en" if current_locale() == "en" else "zh-CN")
    fg.rights(current_app.config["OPEN_DATA_LICENSE"])
    fg.updated(max(stamps, default=_EMPTY))
    return fg


def _place(c: Community) -> str:
    return c.name(current_locale())


# --- proposals --------------------------------------------------------------------------------


def proposals_feed(community: Community | None) -> bytes:
    stmt = (
        select(Proposal)
        .where(
            Proposal.status.in_(PUBLIC_STATUSES),
            Proposal.hidden.is_(False),
            Proposal.opened_at.is_not(None),
        )
        .options(joinedload(Proposal.author), joinedload(Proposal.community))
        .order_by(Proposal.id.desc())
        .limit(ENTRIES)
    )
    if community is not None:
        stmt = stmt.where(Proposal.community_id == community.id)
    rows = list(db.session.scalars(stmt).unique())
    if community is None:
        title = _("New proposals")
        ident, page = "proposals", external_url("main.home")
    else:
        title = _("New proposals in %(place)s", place=_place(community))
        ident = f"proposals:{community.code}"
        page = external_url("proposals.community_list", code=community.code)
    fg = _feed("feed", ident, title, page, (p.opened_at for p in rows if p.opened_at))
    for p in reversed(rows):  # feedgen puts each new entry first: newest ends on top
        fe = fg.add_entry()
        fe.id(tag("proposal", p.id))
        fe.title(p.title)
        fe.link(href=external_url("proposals.show", proposal_id=p.id))
        fe.published(p.opened_at)
        fe.updated(p.opened_at)
        fe.author({"name": p.author.display_name})
        status = proposals.status_label(proposals.effective_status(p))
        fe.summary(f"{p.summary}\n\n{_place(p.community)} · {status}")
    return fg.atom_str(pretty=True)


# --- case updates ----------------------------------------------------------------------------


def case_events_feed(*, community: Community | None = None, agency: Agency | None = None) -> bytes:
    """The public timeline steps of a community's cases, or of the steps after which an agency
    held a case (the agency answerable for it then)."""
    stmt = (
        select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .options(joinedload(Case.proposal).load_only(Proposal.title, Proposal.hidden))
        .order_by(CaseEvent.id.desc())
        .limit(ENTRIES)
    )
    if community is not None:
        stmt = stmt.where(Case.community_id == community.id)
        title = _("Case updates in %(place)s", place=_place(community))
        ident = f"cases:community:{community.code}"
        page = external_url("cases.index", community=community.code)
    else:
        assert agency is not None
        stmt = stmt.where(CaseEvent.agency_id == agency.id)
        title = _("Case updates of %(agency)s", agency=agency.name(current_locale()))
        ident = f"cases:agency:{agency.code}"
        page = external_url("cases.index", agency=agency.code)
    rows = db.session.execute(stmt).unique().all()
    fg = _feed("feed", ident, title, page, (ev.created_at for ev, _c in rows))
    for ev, case in reversed(rows):
        fe = fg.add_entry()
        fe.id(tag("case-event", ev.id))
        fe.title(f"{case.number} · {cases.action_label(ev.action)}")
        fe.link(href=external_url("cases.show", number=case.number))
        fe.published(ev.created_at)
        fe.updated(ev.created_at)
        parts = [] if case.proposal.hidden else [case.proposal.title]
        parts.append(_("State: %(state)s", state=cases.state_label(CaseState(ev.state))))
        if ev.note:
            parts.append(ev.note)
        fe.summary("\n\n".join(parts))
    return fg.atom_str(pretty=True)


# --- meetings --------------------------------------------------------------------------------


def meetings_feed(community: Community) -> bytes:
    rows = list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.community_id == community.id, Meeting.state != MeetingState.draft.value)
            .order_by(Meeting.id.desc())
            .limit(ENTRIES)
        )
    )
    fg = _feed(
        "feed",
        f"meetings:{community.code}",
        _("Meetings in %(place)s", place=_place(community)),
        external_url("meetings.community_meetings", code=community.code),
        (m.updated_at for m in rows),
    )
    for m in reversed(rows):
        fe = fg.add_entry()
        fe.id(tag("meeting", m.id))
        fe.title(m.title)
        fe.link(href=external_url("meetings.show", meeting_id=m.id))
        fe.published(m.published_at or m.created_at)
        fe.updated(m.updated_at)
        lines = [
            f"{fmt_datetime(m.starts_at)} – {fmt_datetime(m.ends_at)}",
            meetings.state_label(m),
        ]
        if m.location:
            lines.append(m.location)
        if m.state == MeetingState.cancelled.value and m.cancel_reason:
            lines.append(m.cancel_reason)
        if m.description:
            lines.append(m.description)
        fe.summary("\n\n".join(lines))
    return fg.atom_str(pretty=True)
