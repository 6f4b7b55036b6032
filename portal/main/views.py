"""Home page, language and display preferences, health check."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts import services as accounts
from portal.core import clock
from portal.core.guards import public
from portal.core.i18n import LOCALES
from portal.core.security import safe_next, same_origin
from portal.desks.queries import desks_for
from portal.extensions import csrf, db
from portal.main import bp
from portal.main import home as home_queries
from portal.proposals import cards, hooks
from portal.transparency.dashboard.figures import Scope
from portal.transparency.dashboard.views import headline as dashboard_headline

YEAR = 365 * 24 * 3600


@bp.get("/")
@public
def home():
    now = clock.now()
    user = current_user
    context: dict = {
        "now": now,
        "closing": cards.views(home_queries.closing_soon(now), now),
        "near": cards.views(home_queries.near_threshold(now), now),
        "resolved": home_queries.resolved_lately(now),
        "figures": home_queries.figures(now),
        "desks": desks_for(user),
        "dashboard_headline": dashboard_headline(Scope("city")),
    }
    if user.is_authenticated and user.community_id:
        context["needs_support"] = cards.views(home_queries.needs_support(user, now), now)
        mine = home_queries.mine(user)
        shown = cards.views([m.proposal for m in mine], now)
        context["mine"] = [(c, m.raised) for c, m in zip(shown, mine, strict=True)]
        context["cases"] = hooks.cases_of([m.proposal for m in mine])
    return render_template("main/home.html", **context)


def _back():
    return redirect(safe_next(request.form.get("next"), url_for("main.home")))


# The two preference switches sit on every page, cached pages included, so they carry no
# per-session CSRF token; they are protected by the browser's own origin headers instead
# (OWASP "verifying origin with standard headers") and only ever set a preference.
@bp.post("/preferences/language")
@public
@csrf.exempt
def set_language():
    lang = request.form.get("lang")
    if not same_origin() or lang not in LOCALES:
        return _back()
    if current_user.is_authenticated:
        accounts.set_preferences(current_user._get_current_object(), locale=lang)
    resp = make_response(_back())
    resp.set_cookie(
        "lang", lang, max_age=YEAR, samesite="Lax", httponly=True, secure=request.is_secure
    )
    return resp


@bp.post("/preferences/display")
@public
@csrf.exempt
def set_display():
    mode = request.form.get("mode")
    if not same_origin() or mode not in ("standard", "large"):
        return _back()
    if current_user.is_authenticated:
        accounts.set_preferences(current_user._get_current_object(), display_mode=mode)
    resp = make_response(_back())
    resp.set_cookie(
        "display", mode, max_age=YEAR, samesite="Lax", httponly=True, secure=request.is_secure
    )
    return resp


@bp.get("/healthz")
@public
def healthz():
    db.session.execute(db.select(1))
    return {"status": "ok"}
