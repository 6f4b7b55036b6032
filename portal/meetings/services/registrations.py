"""Residents register to attend: within the capacity, or on the waitlist, promoted in order
when a place opens. The meeting's row is locked while places are counted, so two people never
take the last place together."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import delete, func, select

from portal.audit.services import record
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.meetings.models import Meeting, Registration
from portal.meetings.services._common import M, MeetingError, started
from portal.notifications.services import notify


def _lock(m: Meeting) -> None:
    db.session.execute(select(Meeting.id).where(Meeting.id == m.id).with_for_update())


def _check_open(m: Meeting) -> None:
    if m.state == M.cancelled:
        raise MeetingError("meeting_cancelled", _("This meeting is cancelled."))
    if m.state != M.published or started(m):
        raise MeetingError(
            "meeting_started", _("This meeting has started; registration is closed.")
        )


def registration_of(user, m: Meeting) -> Registration | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Registration).where(Registration.meeting_id == m.id, Registration.user_id == user.id)
    )


def counts(m: Meeting) -> dict[str, int | None]:
    rows = dict(
        db.session.execute(
            select(Registration.state, func.count())
            .where(Registration.meeting_id == m.id)
            .group_by(Registration.state)
        ).all()
    )
    registered = rows.get("registered", 0)
    return {
        "registered": registered,
        "waitlisted": rows.get("waitlisted", 0),
        "capacity": m.capacity,
        "places_left": None if m.capacity is None else max(m.capacity - registered, 0),
    }


def register(user, m: Meeting) -> Registration:
    _check_open(m)
    _lock(m)
    if registration_of(user, m) is not None:
        raise MeetingError("already_registered", _("You are registered for this meeting already."))
    taken = counts(m)
    r = Registration(meeting_id=m.id, user_id=user.id, state="registered")
    if m.capacity is not None and (taken["registered"] or 0) >= m.capacity:
        last = db.session.scalar(
            select(func.max(Registration.waitlist_position)).where(Registration.meeting_id == m.id)
        )
        r.state, r.waitlist_position = "waitlisted", (last or 0) + 1
    db.session.add(r)
    db.session.flush()
    return r


def cancel_registration(user, m: Meeting) -> None:
    if m.state != M.published or started(m):
        _check_open(m)
    _lock(m)
    r = registration_of(user, m)
    if r is None:
        raise MeetingError("not_registered", _("You are not registered for this meeting."))
    freed = r.state == "registered"
    db.session.execute(delete(Registration).where(Registration.id == r.id))
    db.session.expunge(r)
    db.session.flush()
    if freed:
        promote(m)


def promote(m: Meeting) -> list[Registration]:
    """Fill the places left from the waitlist, first come first served."""
    left = counts(m)["places_left"]
    waiting = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.meeting_id == m.id, Registration.state == "waitlisted")
            .order_by(Registration.waitlist_position)
            .limit(left if left is not None else None)
        )
    )
    now = clock.now()
    for r in waiting:
        r.state, r.waitlist_position, r.promoted_at = "registered", None, now
    db.session.flush()
    if waiting:
        notify(
            [r.user_id for r in waiting],
            "registration_promoted",
            m,
            url=url_for("meetings.show", meeting_id=m.id),
            params={"title": m.title},
        )
        record(None, "meeting.promote", m, users=len(waiting))
    return waiting
