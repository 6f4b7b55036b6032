"""A meeting's life: created as a draft, changed, published, cancelled with a public reason,
held (minutes, in ``minutes``) and archived. Changes to a published meeting are told to its
registrants and invited agencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from portal.audit.services import record
from portal.cases.services import record_event
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.core.input import clean_text
from portal.extensions import db
from portal.meetings.models import AgendaItem, Meeting
from portal.meetings.services._common import (
    M,
    MeetingError,
    check_changeable,
    check_runs,
    invalid,
    invited_liaison_ids,
    item_proposal_id,
    item_title,
    proposal_people,
    registrant_ids,
    started,
    when_text,
)
from portal.notifications.services import notify
from portal.places.models import Community
from portal.roles import permissions

MAX_TITLE, MAX_LOCATION, MAX_URL, MAX_TEXT = 200, 300, 500, 10000


@dataclass
class Details:
    """What the committee writes about a meeting (the form and the API fill it)."""

    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str = ""
    online_url: str = ""
    capacity: int | None = None


def _check(d: Details) -> Details:
    title = (d.title or "").strip()
    if not title:
        raise invalid("title", _("Give the meeting a title."))
    if len(title) > MAX_TITLE:
        raise invalid("title", _("Use at most %(n)d characters.", n=MAX_TITLE))
    location, online = (d.location or "").strip(), (d.online_url or "").strip()
    if not location and not online:
        raise invalid("location", _("Say where the meeting is, or give its online link."))
    if len(location) > MAX_LOCATION:
        raise invalid("location", _("Use at most %(n)d characters.", n=MAX_LOCATION))
    if online and (len(online) > MAX_URL or not online.startswith(("https://", "http://"))):
        raise invalid("online_url", _("Give a web address starting with https://."))
    description = (d.description or "").strip()
    if len(description) > MAX_TEXT:
        raise invalid("description", _("Use at most %(n)d characters.", n=MAX_TEXT))
    for name in ("title", "description", "location", "online_url"):
        if not clean_text(getattr(d, name) or ""):
            raise invalid(name, _("This text contains characters that cannot be kept."))
    if d.starts_at.tzinfo is None or d.ends_at.tzinfo is None:
        raise invalid("starts_at", _("Give the time with its time zone."))
    if d.starts_at <= clock.now():
        raise invalid("starts_at", _("Choose a start in the future."))
    if d.ends_at <= d.starts_at:
        raise invalid("ends_at", _("The meeting must end after it starts."))
    if d.capacity is not None and not 1 <= d.capacity <= 100000:
        raise invalid("capacity", _("Give a number of places from 1, or leave it empty."))
    return Details(title, description, d.starts_at, d.ends_at, location, online, d.capacity)


def create_meeting(user, community: Community, details: Details) -> Meeting:
    if not permissions.is_committee(user, community):
        raise MeetingError(
            "forbidden", _("Only the committee of this community runs its meetings."), status=403
        )
    d = _check(details)
    m = Meeting(
        community_id=community.id,
        community=community,
        title=d.title,
        description=d.description,
        starts_at=d.starts_at,
        ends_at=d.ends_at,
        location=d.location,
        online_url=d.online_url,
        capacity=d.capacity,
        state=M.draft.value,
        created_by_id=user.id,
    )
    db.session.add(m)
    db.session.flush()
    record(user, "meeting.create", m, community=community.code)
    return m


CHANGE_LABELS = {
    "title": "title",
    "starts_at": "time",
    "ends_at": "time",
    "location": "place",
    "online_url": "place",
}


def _change_words(what: set[str]) -> dict:
    from portal.core.i18n import force_locale

    words = {}
    for loc in ("zh_Hans", "en"):
        with force_locale(loc):
            labels = {
                "title": _("title"),
                "time": _("time"),
                "place": _("place"),
                "agenda": _("agenda"),
                "capacity": _("places"),
                "description": _("description"),
            }
            words[loc] = ", ".join(str(labels[w]) for w in sorted(what))
    return words


def tell_changed(m: Meeting, what: set[str]) -> None:
    """Registrants and invited agencies hear what changed in a published meeting."""
    if m.state != M.published or not what:
        return
    notify(
        [*registrant_ids(m), *invited_liaison_ids(m)],
        "meeting_changed",
        m,
        url=url_for("meetings.show", meeting_id=m.id),
        params={"title": m.title, "what": _change_words(what)},
    )


def update_meeting(user, m: Meeting, details: Details) -> set[str]:
    """Change a draft, or a published meeting that has not started; returns what changed."""
    check_runs(user, m)
    check_changeable(m)
    d = _check(details)
    changed: set[str] = set()
    for name in (
        "title",
        "description",
        "starts_at",
        "ends_at",
        "location",
        "online_url",
        "capacity",
    ):
        new = getattr(d, name)
        if getattr(m, name) != new:
            setattr(m, name, new)
            changed.add(CHANGE_LABELS.get(name, name))
    if changed:
        m.updated_at = clock.now()
        db.session.flush()
        record(user, "meeting.update", m, changed=sorted(changed))
        tell_changed(m, changed)
    return changed


def publish(user, m: Meeting) -> None:
    check_runs(user, m)
    if m.state != M.draft:
        raise MeetingError("not_draft", _("Only a draft is published."))
    if started(m):
        raise MeetingError(
            "meeting_started", _("This meeting's start has passed; change it first.")
        )
    if not m.items:
        raise MeetingError("agenda_empty", _("Put at least one item on the agenda first."))
    m.state, m.published_at, m.updated_at = M.published.value, clock.now(), clock.now()
    db.session.flush()
    record(user, "meeting.publish", m)
    url = url_for("meetings.show", meeting_id=m.id)
    notify(
        [*registrant_ids(m), *invited_liaison_ids(m)],
        "meeting_published",
        m,
        url=url,
        params={"title": m.title, "when": when_text(m)},
    )
    for item in m.items:
        announce_item(user, m, item)
    from portal.meetings.services.invitations import tell_invited

    for item in m.items:
        for inv in item_invitations(item):
            tell_invited(inv)


def item_invitations(item: AgendaItem):
    from sqlalchemy import select

    from portal.meetings.models import Invitation

    return list(db.session.scalars(select(Invitation).where(Invitation.item_id == item.id)))


def announce_item(user, m: Meeting, item: AgendaItem) -> None:
    """A published agenda item: its proposal's author and supporters are told, and a case
    item's timeline shows it."""
    if m.state != M.published:
        return
    if item.kind == "case" and item.case is not None:
        record_event(item.case, "meeting_agenda", user, "committee", note=m.title)
    pid = item_proposal_id(item)
    if pid is not None:
        notify(
            proposal_people(pid),
            "agenda_published",
            item,
            url=url_for("meetings.show", meeting_id=m.id) + f"#item-{item.id}",
            params={"item": item_title(item), "title": m.title, "when": when_text(m)},
        )
    db.session.flush()


def cancel(user, m: Meeting, reason: str) -> None:
    check_runs(user, m)
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", _("Give the public reason for cancelling."))
    if len(reason) > 2000 or not clean_text(reason):
        raise invalid("reason", _("Use at most %(n)d characters.", n=2000))
    if m.state == M.cancelled:
        raise MeetingError("meeting_cancelled", _("This meeting is cancelled."))
    if m.state in (M.held, M.archived):
        raise MeetingError("meeting_held", _("This meeting was held; it cannot be cancelled."))
    was_public = m.state == M.published
    m.state, m.cancel_reason, m.cancelled_at = M.cancelled.value, reason, clock.now()
    if m.published_at is None:
        m.published_at = m.cancelled_at  # a cancelled draft is public with its reason
    m.updated_at = clock.now()
    db.session.flush()
    record(user, "meeting.cancel", m)
    if was_public:
        notify(
            [*registrant_ids(m), *invited_liaison_ids(m)],
            "meeting_cancelled",
            m,
            url=url_for("meetings.show", meeting_id=m.id),
            params={"title": m.title, "reason": reason},
        )


def archive(user, m: Meeting) -> None:
    check_runs(user, m)
    if m.state != M.held:
        raise MeetingError("not_held", _("Only a meeting that was held is archived."))
    m.state, m.archived_at, m.updated_at = M.archived.value, clock.now(), clock.now()
    db.session.flush()
    record(user, "meeting.archive", m)
