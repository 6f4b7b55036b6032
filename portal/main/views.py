"""Home page, language and display preferences, health check."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func

from portal.accounts import services as accounts
from portal.accounts.forms import EmptyForm
from portal.core.guards import public
from portal.core.i18n import LOCALES
from portal.core.security import safe_next
from portal.extensions import db
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


@bp.post("/preferences/language")
@public
def set_language():
    form = EmptyForm()
    lang = request.form.get("lang")
    if not form.validate_on_submit() or lang not in LOCALES:
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
def set_display():
    form = EmptyForm()
    mode = request.form.get("mode")
    if not form.validate_on_submit() or mode not in ("standard", "large"):
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
