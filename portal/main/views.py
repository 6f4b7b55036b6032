"""Home page, language and display preferences, health check."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func

from portal.accounts import services as accounts
from portal.core.guards import public
from portal.core.i18n import LOCALES
from portal.core.security import safe_next, same_origin
from portal.extensions import csrf, db
from portal.main import bp
from portal.places.models import Community, District

YEAR = 365 * 24 * 3600


@bp.get("/")
@public
def home():
    stats = {
        "districts": db.session.scalar(db.select(func.count(District.id))) or 0,
        "communities": db.session.scalar(db.select(func.count(Community.id))) or 0,
        "residents": db.session.scalar(db.select(func.sum(Community.confirmed_residents))) or 0,
    }
    return render_template("main/home.html", stats=stats)


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
        db.session.commit()
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
        db.session.commit()
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
