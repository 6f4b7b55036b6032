"""iCalendar (RFC 5545) files of meetings, built with the ``icalendar`` package: one meeting
to download, or a community's feed. Times go out in UTC; a cancelled meeting stays in the feed
as CANCELLED so that calendars that imported it drop it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event

from portal.core.urls import external_url
from portal.meetings.models import Meeting


def _event(m: Meeting) -> Event:
    ev = Event()
    # Built from PUBLIC_URL, never from the request's Host (``core.urls``).
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "commons"
    ev.add("uid", f"meeting-{m.id}@{host}")
    ev.add("dtstamp", m.updated_at)
    ev.add("dtstart", m.starts_at)
    ev.add("dtend", m.ends_at)
    ev.add("summary", m.title)
    link = external_url("meetings.show", meeting_id=m.id)
    description = m.description or ""
    if m.state == "cancelled" and m.cancel_reason:
        description = f"{description}\n\n{m.cancel_reason}".strip()
    ev.add("description", f"{description}\n\n{link}".strip())
    location = m.location or m.online_url
    if location:
        ev.add("location", location)
    ev.add("url", m.online_url or link)
    ev.add("status", "CANCELLED" if m.state == "cancelled" else "CONFIRMED")
    ev.add("sequence", int(m.updated_at.timestamp()) % 2_000_000_000)
    return ev


def calendar(rows: list[Meeting], name: str | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Commons//Meetings//ZH")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    for m in rows:
        cal.add_component(_event(m))
    return cal.to_ical()
