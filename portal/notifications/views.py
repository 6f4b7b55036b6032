"""The notifications page: list, open one (marks it read), mark all read."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.forms import EmptyForm
from portal.core.guards import login_required
from portal.core.input import BadCursor
from portal.core.pagination import page_of
from portal.core.security import safe_next
from portal.extensions import db
from portal.notifications import bp
from portal.notifications import services as notes
from portal.notifications.models import Notification

PAGE = 20


@bp.get("/notifications")
@login_required
def index():
    """The reader's notifications, newest first, a page at a time with a link to the older
    ones (as the "my" pages: no count of every notification on each view)."""
    try:
        rows, next_cursor = page_of(
            notes.received(),
            Notification.id,
            request.args.get("cursor"),
            PAGE,
            descending=True,
            params={"user_id": current_user.id},
        )
    except BadCursor:
        abort(400)
    return render_template(
        "notifications/index.html",
        items=rows,
        next_cursor=next_cursor,
        first_page=not request.args.get("cursor"),
        title_of=notes.title_html,
        now_states=notes.live_states(rows),
    )


@bp.post("/notifications/<id:notification_id>/open")
@login_required
def open_one(notification_id: int):
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != current_user.id:
        abort(404)
    if EmptyForm().validate_on_submit():
        notes.mark_read(current_user, [n.id])
    return redirect(safe_next(n.url, url_for("notifications.index")))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    if EmptyForm().validate_on_submit():
        notes.mark_read(current_user)
    return redirect(url_for("notifications.index"))
