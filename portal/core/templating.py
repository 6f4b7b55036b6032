"""Template globals and filters: dates in the city's time zone, display mode, unread count."""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

from portal.core.i18n import current_locale, fmt_datetime
from portal.core.security import safe_next


def display_mode() -> str:
    if current_user.is_authenticated:
        return current_user.display_mode
    return "large" if request.cookies.get("display") == "large" else "standard"


def install_templating(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = fmt_datetime
    app.jinja_env.globals["safe_next"] = safe_next
    from portal.cases import services as cases
    from portal.core import clock
    from portal.deliberation import services as delib
    from portal.proposals import services as proposals
    from portal.proposals.models import Status

    app.jinja_env.globals.update(
        status_label=proposals.status_label,
        reason_label=proposals.reason_label,
        effective_status=proposals.effective_status,
        S=Status,
        now=clock.now,
        button_label=cases.button_label,
        reason_text=delib.reason_text,
        case_state_label=cases.state_label,
    )

    @app.context_processor
    def _globals():
        from portal.accounts.forms import EmptyForm
        from portal.notifications.services import unread_count
        from portal.roles import permissions

        user = current_user
        return {
            "locale": current_locale(),
            "display_mode": display_mode(),
            "unread_count": unread_count(user) if user.is_authenticated else 0,
            "perm": permissions,
            # Header buttons never read the request body (it may be the reason for an error page).
            "button_form": lambda: EmptyForm(formdata=None),
            "here": request.full_path.rstrip("?") if request else "/",
        }
