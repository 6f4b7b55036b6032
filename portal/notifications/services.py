"""``notify()``: the one way any feature tells people something.

A notification stores its type and parameters, not rendered text: the title is rendered when it
is read, in the reader's language. Channels beyond in-app (email, digests) plug in through
``CHANNELS``: each is called with the created notifications after they are flushed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from flask import g, has_request_context
from markupsafe import Markup
from sqlalchemy import Select, bindparam, func, select, update

from portal.core import clock
from portal.core.database import rowcount
from portal.core.i18n import current_locale
from portal.core.i18n import lazy_gettext as _l
from portal.extensions import db
from portal.notifications.models import Notification

# type -> title template (lazy, so it renders in the reader's language).
TYPES: dict[str, object] = {
    "residency_confirmed": _l("Your residency in %(community)s is confirmed."),
    "residency_rejected": _l(
        "Your residency request for %(community)s was not approved: %(reason)s"
    ),
    "residency_requested": _l("A new residency request is waiting in %(community)s."),
}

CHANNELS: list[Callable[[list[Notification]], None]] = []


# What the subject of each notification is now, in words, for notifications about something
# that moved on since (a proposal that became a case: the case's live stage); handed in by the
# app factory (``portal.create_app``): notifications import no feature above them.
_live_state: Callable[[list[Notification]], dict[int, str]] | None = None


def set_live_state(lookup: Callable[[list[Notification]], dict[int, str]]) -> None:
    global _live_state
    _live_state = lookup


def live_states(rows: list[Notification]) -> dict[int, str]:
    """{notification id: its subject's state now} for those whose subject has one to tell."""
    return _live_state(rows) if _live_state is not None and rows else {}


def register_type(name: str, title) -> None:
    TYPES[name] = title


def notify(
    recipients: Iterable,
    type: str,
    subject,
    *,
    url: str,
    params: dict | None = None,
    subject_type: str | None = None,
) -> list[Notification]:
    """Create one notification per distinct recipient (users or ids) about ``subject``."""
    if type not in TYPES:
        raise ValueError(f"unknown notification type {type!r}")
    ids = sorted({r if isinstance(r, int) else r.id for r in recipients})
    stype = subject_type or type_name(subject)
    sid = str(getattr(subject, "id", subject))
    rows = [
        Notification(
            user_id=uid,
            type=type,
            subject_type=stype,
            subject_id=sid,
            url=url,
            params=dict(params or {}),
        )
        for uid in ids
    ]
    db.session.add_all(rows)
    db.session.flush()
    for channel in CHANNELS:
        channel(rows)
    return rows


def type_name(subject) -> str:
    table: str | None = getattr(subject, "__tablename__", None)
    if not table:
        return "object"
    return {"residency_requests": "residency_request"}.get(table, table)


def title(n: Notification) -> str:
    template = TYPES.get(n.type)
    if template is None:
        return n.type
    loc = current_locale()
    # A parameter given in both languages ({"zh_Hans": ..., "en": ...}) shows in the reader's.
    params = {
        k: (v.get(loc) or v.get("zh_Hans", "")) if isinstance(v, dict) else v
        for k, v in (n.params or {}).items()
    }
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def title_html(n: Notification) -> Markup:
    """``title`` for a page: the parts taken from people's words (a proposal's title, a name)
    marked as their content (``user-content``); the rest translated and escaped."""
    template = TYPES.get(n.type)
    if template is None:
        return Markup.escape(n.type)
    loc = current_locale()
    # Every part escaped here, then put together as text: ``Markup.format`` and ``Markup %``
    # would escape them again through a ``string.Formatter`` run and a helper object each,
    # some fifty calls a notification for the same HTML.
    params = {
        k: (
            str(Markup.escape(v.get(loc) or v.get("zh_Hans", "")))  # ours, translated
            if isinstance(v, dict)
            else f'<span class="user-content">{Markup.escape(v)}</span>'
        )
        for k, v in (n.params or {}).items()
    }
    text = str(Markup.escape(str(template)))
    try:
        return Markup(text % params)  # noqa: S704  # nosec B704
    except (KeyError, TypeError, ValueError):
        return Markup(text)  # noqa: S704  # nosec B704


@cache
def received(unread: bool | None = None) -> Select:
    """The notifications of the person ``:user_id``: all of them, the unread (True) or the
    read (False) only. Built once per kind, the person bound, for the page and the API to
    page newest first on their id (``core.pagination.page_of``), on the (user_id, read_at,
    id) index."""
    stmt = select(Notification).where(
        Notification.user_id == bindparam("user_id", type_=Notification.user_id.type)
    )
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return stmt


def unread_count(user) -> int:
    """Unread notifications; taken from the sign-in query when it already counted them."""
    known = g.get("unread_count") if has_request_context() else None
    if known is not None and known[0] == user.id:
        return known[1]
    return (
        db.session.scalar(
            db.select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    """Mark the given (or all) of the user's notifications read; returns how many changed."""
    if has_request_context():
        g.pop("unread_count", None)  # counted before this change
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    result = db.session.execute(stmt.values(read_at=clock.now()))
    return rowcount(result) or 0
