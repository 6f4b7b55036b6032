"""The resident's data-rights pages: download, who has seen it, delete the account."""

from __future__ import annotations

import json
from functools import partial

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from portal.accounts import phones
from portal.accounts import services as accounts
from portal.accounts.forms import EmptyForm
from portal.accounts.security_views import reauth_required
from portal.core import clock
from portal.core.database import after_commit, discard_changes, keep_on_error
from portal.core.errors import DomainError, act_on_form, field_error
from portal.core.guards import login_required
from portal.core.i18n import current_locale
from portal.core.i18n import gettext as _
from portal.core.limits import configured
from portal.core.security import log_event
from portal.extensions import limiter
from portal.media.storage import storage_for
from portal.privacy import bp
from portal.privacy import services as privacy
from portal.privacy.forms import AddressNoteForm, DeleteForm, EmailForm
from portal.privacy.retention import CODES_KEPT_DAYS, OUTBOX_KEPT_DAYS
from portal.residency import services as residency
from portal.roles import permissions


def _user():
    return current_user._get_current_object()


def _data_page(*, email_form=None, note_form=None, status: int = 200):
    user = _user()
    request_ = residency.current_request(user)
    if note_form is None:
        note_form = AddressNoteForm(
            formdata=None, address_note=request_.address_note if request_ else ""
        )
    entries = privacy.access_entries(user, limit=5)
    return render_template(
        "privacy/data.html",
        entries=entries,
        organisations=privacy.organisations(entries, current_locale()),
        days=current_app.config["ACCESS_LOG_DAYS"],
        email_form=email_form or EmailForm(formdata=None, email=user.email or ""),
        note_form=note_form,
        has_request=request_ is not None,
    ), status


@bp.get("/account/data")
@login_required
def data():
    return _data_page()


@bp.post("/account/data/email")
@login_required
@reauth_required
def correct_email():
    """A new address is kept unconfirmed and sent a link (``accounts.update_profile``)."""
    form = EmailForm()
    if not form.validate_on_submit():
        return _data_page(email_form=form, status=400)
    done = act_on_form(
        form,
        lambda: accounts.update_profile(_user(), email=form.email.data),
        done=_("Your email address is saved. Open the link we sent to confirm it."),
        then=url_for("privacy.data"),
        default="email",
    )
    if isinstance(done, DomainError):
        return _data_page(email_form=form, status=done.status)
    return done


@bp.post("/account/data/address-note")
@login_required
def correct_address_note():
    form = AddressNoteForm()
    if not form.validate_on_submit():
        return _data_page(note_form=form, status=400)
    done = act_on_form(
        form,
        lambda: residency.correct_address_note(_user(), form.address_note.data or ""),
        done=_("Your address note is corrected."),
        then=url_for("privacy.data"),
        default="address_note",
    )
    if isinstance(done, DomainError):
        return _data_page(note_form=form, status=done.status)
    return done


def export_response(user) -> Response:
    """The archive as a file to keep: ``commons-data-<id>-<date>.json``."""
    body = json.dumps(privacy.export_data(user), ensure_ascii=False, indent=2)
    name = f"commons-data-{user.id}-{clock.now():%Y%m%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/account/data/export.json")
@login_required
def export():
    log_event("data_exported", user=current_user.id)
    return export_response(_user())


@bp.get("/account/access-log")
@login_required
def access_log():
    page = privacy.access_page(_user())
    if not page.items and page.page > 1:  # past the end (an old link): the last page
        return redirect(url_for("privacy.access_log", page=page.pages or None))
    entries = page.items
    return render_template(
        "privacy/access_log.html",
        page=page,
        entries=entries,
        organisations=privacy.organisations(entries, current_locale()),
        days=current_app.config["ACCESS_LOG_DAYS"],
    )


def _delete_page(form: DeleteForm, *, sent=None, status: int = 200):
    user = _user()
    return render_template(
        "privacy/delete.html",
        form=form,
        empty=EmptyForm(),
        phone=phones.mask_phone(user.phone),
        sent=sent,
        staff=bool(permissions.grants(user)),
    ), status


@bp.get("/account/delete")
@login_required
def delete_page():
    return _delete_page(DeleteForm(formdata=None))


@bp.post("/account/delete/code")
@login_required
@limiter.limit(configured("SMS_SEND_LIMIT"))
def delete_code():
    user = _user()
    if not EmptyForm().validate_on_submit():
        return _delete_page(DeleteForm(formdata=None), status=400)
    try:
        sent = privacy.send_reauth_code(user, get_remote_address(), user.locale)
    except DomainError as err:
        discard_changes()
        form = DeleteForm(formdata=None)
        field_error(form, err, "code")
        return _delete_page(form, status=err.status)
    return _delete_page(DeleteForm(formdata=None), sent={"wait": sent.resend_after})


@bp.post("/account/delete")
@login_required
@limiter.limit(configured("SMS_VERIFY_LIMIT"))
def delete_account():
    user = _user()
    form = DeleteForm()
    if not form.validate_on_submit():
        return _delete_page(form, status=400)
    try:
        privacy.reauthenticate(user, code=form.code.data, password=form.password.data)
    except DomainError as err:
        keep_on_error("the wrong try counts against the code")
        if user.phone is None:  # no code field on the page: the password's tells it
            form.password.errors = [*form.password.errors, err.message]
        else:
            field_error(form, err, "code")
        return _delete_page(form, status=err.status)
    uid = user.id
    try:
        files = privacy.erase_account(user)
    except DomainError as err:
        discard_changes()
        field_error(form, err, "confirm")
        return _delete_page(form, status=err.status)
    storage = storage_for(current_app)
    for name in files:  # files go once the rows are gone for good
        after_commit(partial(storage.delete, name))
    log_event("account_deleted", user=uid)
    logout_user()
    session.clear()
    flash(
        _("Your account is deleted. What you wrote in public now shows “Former resident”."),
        "success",
    )
    return redirect(url_for("main.home"))


@bp.app_context_processor
def _purpose_words():
    return {
        "access_purpose": purpose_words,
        "access_role": role_words,
        "retention": {
            "code_minutes": phones.CODE_MINUTES,
            "codes_days": CODES_KEPT_DAYS,
            "outbox_days": OUTBOX_KEPT_DAYS,
        },
    }


def purpose_words(purpose: str) -> str:
    return {
        "residency_queue": _("Checking residency requests (your name and address note)"),
        "residency_decision": _("Deciding your residency request"),
        "reports": _("Reviewing reports (your name)"),
        "blocks": _("Blocking or unblocking (your name)"),
    }.get(purpose, purpose)


def role_words(role: str) -> str:
    return {
        "committee": _("Neighbourhood committee"),
        "supervisor": _("District supervision centre"),
        "admin": _("Platform administrator"),
        "liaison": _("Agency liaison"),
        "grid_worker": _("Grid worker"),
    }.get(role, role)
