"""Admin pages: role grants and agencies."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal.accounts.forms import EmptyForm
from portal.accounts.models import User
from portal.accounts.phones import find_person
from portal.accounts.security_views import reauth_required
from portal.admin import bp, pickers
from portal.admin.forms import (
    ROLE_LABELS,
    ROLE_SCOPES,
    SCOPE_HINTS,
    AgencyForm,
    CalendarForm,
    CategoryForm,
    DeleteForm,
    GrantForm,
    Open311KeyForm,
    RevokeForm,
    RoutingForm,
    SecondFactorResetForm,
    SupportRulesForm,
)
from portal.core.errors import DomainError, act_on_form
from portal.core.guards import admin_required
from portal.core.i18n import current_locale
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.places.models import District
from portal.roles import services as roles
from portal.roles.models import Agency, Role, RoleGrant


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html")


def _scope_picker(form: GrantForm) -> pickers.Picker:
    """The scope field's choices: places and agencies, found by name or code (``find``)."""
    posted = form.scope_code.data if request.method == "POST" else None
    picker = pickers.build(
        request.args.get("find", ""),
        ("district", "community", "grid"),
        agencies=True,
        posted=posted or None,
        empty_label=_("No scope (administrator)"),
    )
    form.scope_code.choices = picker.choices
    return picker


def _grants_page(form: GrantForm, picker: pickers.Picker, status: int = 200):
    page = db.paginate(
        db.select(RoleGrant).order_by(RoleGrant.id.desc()), per_page=50, error_out=False
    )
    # Who holds each role, by the name they go by (staff act under their office, but the
    # administrator granting and revoking needs to know whom a row is about).
    ids = {g.user_id for g in page.items}
    names = dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    )
    return render_template(
        "admin/roles.html",
        form=form,
        picker=picker,
        page=page,
        names=names,
        revoke=RevokeForm(),
        labels=ROLE_LABELS,
    ), status


def _scope_fits(form: GrantForm, picker: pickers.Picker) -> bool:
    """Whether the chosen scope is of the kind the role needs; if not, says so at the field."""
    try:
        role = Role(form.role.data)
    except ValueError:
        return True  # the role field has its own error
    kind = picker.kinds.get(form.scope_code.data or "")
    code = form.scope_code.data or ""
    if (not code and ROLE_SCOPES[role]) or (kind is not None and kind not in ROLE_SCOPES[role]):
        form.scope_code.errors.append(str(SCOPE_HINTS[role]))
        return False
    return True


@bp.route("/roles", methods=["GET", "POST"])
@admin_required
@reauth_required
def role_grants():
    form = GrantForm()
    picker = _scope_picker(form)
    valid = form.validate_on_submit()
    # Checked even when another field failed, so every error shows at once.
    if form.is_submitted() and not _scope_fits(form, picker):
        valid = False
    if valid:
        user = find_person(form.email.data)
        if user is None:
            form.email.errors.append(_("No account has this email address or mobile number."))
        else:
            outcome = act_on_form(
                form,
                lambda: roles.grant(
                    current_user._get_current_object(),
                    user,
                    Role(form.role.data),
                    form.scope_code.data,
                ),
                done=_("Role granted."),
                then=url_for("admin.role_grants"),
                default="role",
            )
            if not isinstance(outcome, DomainError):
                return outcome
    return _grants_page(form, picker, 400 if request.method == "POST" else 200)


@bp.post("/roles/revoke")
@admin_required
@reauth_required
def revoke_role():
    form = RevokeForm()
    if not form.validate_on_submit() or not form.grant_id.data.isdigit():
        abort(400)
    row = db.session.get(RoleGrant, int(form.grant_id.data))
    if row is None:
        abort(404)
    roles.revoke(current_user._get_current_object(), row)
    flash(_("Role revoked."), "success")
    return redirect(url_for("admin.role_grants"))


@bp.route("/two-factor", methods=["GET", "POST"])
@admin_required
@reauth_required
def second_factor_reset():
    """Reset a staff member's two-step sign-in, for one who lost the phone and the recovery
    codes: after checking who is asking (the form makes the administrator say so)."""
    from portal.accounts import mfa

    form = SecondFactorResetForm()
    if form.validate_on_submit():
        user = find_person(form.person.data.strip())
        if user is None:
            form.person.errors.append(_("No account has this email address or mobile number."))
        else:
            outcome = act_on_form(
                form,
                lambda: mfa.reset_by_admin(current_user._get_current_object(), user),
                done=_(
                    "Two-step sign-in reset: the person was signed out everywhere and sets it "
                    "up again at the next sign-in."
                ),
                then=url_for("admin.second_factor_reset"),
                default="person",
            )
            if not isinstance(outcome, DomainError):
                return outcome
    status = 400 if request.method == "POST" else 200
    return render_template("admin/two_factor.html", form=form), status


@bp.route("/agencies", methods=["GET", "POST"])
@admin_required
def agencies():
    form = AgencyForm()
    districts = db.session.scalars(db.select(District).order_by(District.code)).all()
    loc = current_locale()
    form.district_code.choices = [
        SelectChoice(d.code, f"{d.code} {d.name(loc)}") for d in districts
    ]
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
            flash(_("Agency created."), "success")
            return redirect(url_for("admin.agencies"))
    rows = db.session.scalars(db.select(Agency).order_by(Agency.code)).all()
    return render_template(
        "admin/agencies.html", form=form, agencies=rows, button=EmptyForm(formdata=None)
    ), (400 if request.method == "POST" else 200)


@bp.post("/agencies/<code>/active")
@admin_required
def agency_active(code: str):
    """Make an agency inactive (no new invitations to answer agenda items) or active again."""
    agency = db.session.scalar(db.select(Agency).where(Agency.code == code))
    if agency is None:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        roles.set_agency_active(current_user._get_current_object(), agency, active)
        flash(_("Agency made active.") if active else _("Agency made inactive."), "success")
    return redirect(url_for("admin.agencies"))


@bp.route("/categories", methods=["GET", "POST"])
@bp.route("/categories/<id:category_id>", methods=["GET", "POST"])
@admin_required
def categories(category_id: int | None = None):
    from portal.proposals import services as proposals
    from portal.proposals.models import Category

    category = db.session.get(Category, category_id) if category_id else None
    if category_id and category is None:
        abort(404)
    form = CategoryForm(obj=category)
    if category is not None:
        form.code.data = category.code  # the code never changes once created
    if form.validate_on_submit():
        try:
            proposals.save_category(
                current_user._get_current_object(),
                category,
                code=form.code.data,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                icon=form.icon.data or "",
                position=form.position.data,
                active=form.active.data,
                limits=(
                    form.response_days.data,
                    form.handling_days.data,
                    form.verification_days.data,
                ),
            )
        except proposals.ProposalError as err:
            form.code.errors.append(err.message)
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("admin.categories"))
    rows = db.session.scalars(db.select(Category).order_by(Category.position, Category.id)).all()
    return render_template("admin/categories.html", form=form, rows=rows, editing=category), (
        400 if request.method == "POST" else 200
    )


@bp.route("/communities/<code>/support-rules", methods=["GET", "POST"])
@admin_required
def support_rules(code: str):
    from portal.places.services import community_by_code
    from portal.proposals import services as proposals

    community = community_by_code(code)
    if community is None:
        abort(404)
    form = SupportRulesForm(obj=community)
    if form.validate_on_submit():
        proposals.set_support_rules(
            current_user._get_current_object(),
            community,
            minimum=form.support_minimum.data,
            percent=float(form.support_percent.data),
            window_days=form.support_window_days.data,
        )
        flash(_("Support rules saved. They apply to proposals opened from now on."), "success")
        return redirect(url_for("places.community", code=code))
    return render_template(
        "admin/support_rules.html",
        form=form,
        community=community,
        threshold=proposals.threshold_for(community),
    ), (400 if request.method == "POST" else 200)


@bp.route("/routing", methods=["GET", "POST"])
@admin_required
def routing():
    from portal.cases import services as cases
    from portal.cases.models import RoutingRule
    from portal.places.models import Community, District, Street
    from portal.proposals.models import Category

    form = RoutingForm()
    cats = db.session.scalars(db.select(Category).order_by(Category.position)).all()
    agencies_ = db.session.scalars(db.select(Agency).order_by(Agency.code)).all()
    loc = current_locale()
    form.category.choices = [SelectChoice("*", _("Any category (district fallback)"))] + [
        SelectChoice(c.code, f"{c.code} {c.name(loc)}") for c in cats
    ]
    form.agency.choices = [SelectChoice(a.code, f"{a.code} {a.name(loc)}") for a in agencies_]
    picker = pickers.build(
        request.args.get("find", ""),
        ("district", "street", "community"),
        posted=(form.place_code.data or None) if request.method == "POST" else None,
        empty_label=_("Choose…"),
    )
    form.place_code.choices = picker.choices
    if form.validate_on_submit():
        levels: dict[int, type[District | Street | Community]] = {
            6: District,
            9: Street,
            12: Community,
        }
        model = levels[len(form.place_code.data)]
        place = db.session.scalar(db.select(model).where(model.code == form.place_code.data))
        category = next((c for c in cats if c.code == form.category.data), None)
        agency = next(a for a in agencies_ if a.code == form.agency.data)
        if place is None:
            form.place_code.errors.append(_("No place has this code."))
        else:
            try:
                cases.set_rule(current_user._get_current_object(), category, place, agency)
            except cases.CaseError as err:
                form.place_code.errors.append(err.message)
            else:
                flash(_("Routing rule saved."), "success")
                return redirect(url_for("admin.routing"))
    rules = db.session.scalars(
        db.select(RoutingRule).order_by(RoutingRule.place_key, RoutingRule.category_key)
    ).all()
    return render_template(
        "admin/routing.html", form=form, picker=picker, rules=rules, delete=DeleteForm()
    ), (400 if request.method == "POST" else 200)


@bp.post("/routing/delete")
@admin_required
def delete_routing():
    from portal.cases import services as cases
    from portal.cases.models import RoutingRule

    form = DeleteForm()
    if not form.validate_on_submit() or not form.item_id.data.isdigit():
        abort(400)
    rule = db.session.get(RoutingRule, int(form.item_id.data))
    if rule is None:
        abort(404)
    cases.delete_rule(current_user._get_current_object(), rule)
    flash(_("Routing rule deleted."), "success")
    return redirect(url_for("admin.routing"))


@bp.route("/calendar", methods=["GET", "POST"])
@admin_required
def calendar():
    from portal.audit.services import record
    from portal.cases.calendar import set_day
    from portal.cases.models import CalendarDay

    form = CalendarForm()
    if form.validate_on_submit():
        set_day(form.day.data, form.kind.data == "workday", form.note.data or "")
        record(
            current_user._get_current_object(),
            "calendar.set",
            ("calendar_days", form.day.data.isoformat()),
            kind=form.kind.data,
        )
        flash(_("Calendar saved."), "success")
        return redirect(url_for("admin.calendar"))
    days = db.session.scalars(
        db.select(CalendarDay).order_by(CalendarDay.day.desc()).limit(200)
    ).all()
    return render_template("admin/calendar.html", form=form, days=days), (
        400 if request.method == "POST" else 200
    )


@bp.get("/filing")
@admin_required
def filing():
    """Qualified proposals whose case could not be filed yet, why, and a retry button."""
    from portal.proposals import services as proposals

    rows = [(p, proposals.filing_problem(p)) for p in proposals.waiting_to_be_filed()]
    return render_template("admin/filing.html", rows=rows, retry=DeleteForm())


@bp.post("/filing/retry")
@admin_required
def retry_filing():
    from portal.proposals import services as proposals
    from portal.proposals.models import Proposal

    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    p = db.session.get(Proposal, int(form.item_id.data))
    if p is None:
        abort(404)
    try:
        filed = proposals.retry_filing(current_user._get_current_object(), p)
    except proposals.ProposalError as err:
        flash(err.message, "error")
        return redirect(url_for("admin.filing"))
    problem = None if filed else proposals.filing_problem(p)
    if filed:
        flash(_("The case of proposal %(id)s is filed.", id=p.id), "success")
    else:
        flash(_("Still cannot file the case: %(problem)s", problem=problem), "error")
    return redirect(url_for("admin.filing"))


# --- Open311 API keys ------------------------------------------------------------------------


@bp.route("/open311-keys", methods=["GET", "POST"])
@admin_required
def open311_keys():
    """Keys for integrations that file requests through Open311; a new key is shown once."""
    from portal.transparency.open311 import services as open311

    form = Open311KeyForm()
    new_key = None
    if form.validate_on_submit():
        _row, new_key = open311.create_key(current_user._get_current_object(), form.name.data)
        form = Open311KeyForm(formdata=None)
    status = 400 if request.method == "POST" and new_key is None else 200
    return render_template(
        "admin/open311_keys.html",
        form=form,
        keys=open311.keys(),
        new_key=new_key,
        button=EmptyForm(formdata=None),
    ), status


@bp.post("/open311-keys/<id:key_id>/revoke")
@admin_required
def revoke_open311_key(key_id: int):
    from portal.transparency.open311 import services as open311
    from portal.transparency.open311.models import Open311Key

    key = db.session.get(Open311Key, key_id)
    if key is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        open311.revoke_key(current_user._get_current_object(), key)
        flash(_("Key revoked: requests with it are refused from now on."), "success")
    return redirect(url_for("admin.open311_keys"))
