"""The notifications page: list, open one (marks it read), mark all read."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts.forms import EmptyForm
from portal.core.guards import login_required
from portal.core.security import safe_next
from portal.extensions import db
from portal.notifications import bp
from portal.notifications import services as notes
from portal.notifications.models import Notification


@bp.get("/notifications")
@login_required
def index():
    page = db.paginate(
        db.select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc()),
        per_page=20,
        error_out=False,
    )
    return render_template(
        "notifications/index.html",
        page=page,
        title_of=notes.title_html,
        now_states=notes.live_states(list(page.items)),
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
