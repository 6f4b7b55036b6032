"""Admin pages: role grants and agencies."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.accounts.services import find_by_email
from portal.admin import bp
from portal.admin.forms import ROLE_LABELS, AgencyForm, GrantForm, RevokeForm
from portal.core.guards import admin_required
from portal.extensions import db
from portal.places.models import District
from portal.roles import services as roles
from portal.roles.models import Agency, Role, RoleGrant


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html")


def _grants_page(form: GrantForm, status: int = 200):
    page = db.paginate(
        db.select(RoleGrant).order_by(RoleGrant.id.desc()), per_page=50, error_out=False
    )
    return render_template(
        "admin/roles.html", form=form, page=page, revoke=RevokeForm(), labels=ROLE_LABELS
    ), status


@bp.route("/roles", methods=["GET", "POST"])
@admin_required
def role_grants():
    form = GrantForm()
    if form.validate_on_submit():
        user = find_by_email(form.email.data)
        if user is None:
            form.email.errors.append(_("No account has this email address."))
        else:
            try:
                roles.grant(
                    current_user._get_current_object(),
                    user,
                    Role(form.role.data),
                    form.scope_code.data,
                )
            except roles.RoleError as err:
                getattr(form, err.field or "role").errors.append(err.message)
            else:
                db.session.commit()
                flash(_("Role granted."), "success")
                return redirect(url_for("admin.role_grants"))
    return _grants_page(form, 400 if request.method == "POST" else 200)


@bp.post("/roles/revoke")
@admin_required
def revoke_role():
    form = RevokeForm()
    if not form.validate_on_submit() or not form.grant_id.data.isdigit():
        abort(400)
    row = db.session.get(RoleGrant, int(form.grant_id.data))
    if row is None:
        abort(404)
    roles.revoke(current_user._get_current_object(), row)
    db.session.commit()
    flash(_("Role revoked."), "success")
    return redirect(url_for("admin.role_grants"))


@bp.route("/agencies", methods=["GET", "POST"])
@admin_required
def agencies():
    form = AgencyForm()
    districts = db.session.scalars(db.select(District).order_by(District.code)).all()
    form.district_code.choices = [SelectChoice(d.code, f"{d.code} {d.name_zh}") for d in districts]
    if form.validate_on_submit():
        district = next(d for d in districts if d.code == form.district_code.data)
        try:
            roles.create_agency(
                current_user._get_current_object(),
                code=form.code.data,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                district=district,
            )
        except roles.RoleError as err:
            form.code.errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Agency created."), "success")
            return redirect(url_for("admin.agencies"))
    rows = db.session.scalars(db.select(Agency).order_by(Agency.code)).all()
    return render_template("admin/agencies.html", form=form, agencies=rows), (
        400 if request.method == "POST" else 200
    )
