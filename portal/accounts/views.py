"""Register, sign in and out, account settings, email confirmation, password reset."""

from __future__ import annotations

import math
from collections.abc import Callable

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from portal.accounts import bp, mfa, phones
from portal.accounts import security_views as security
from portal.accounts import services as accounts
from portal.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    CompleteRegistrationForm,
    EmptyForm,
    LoginForm,
    NameForm,
    PhoneForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from portal.core.database import discard_changes, keep_on_error
from portal.core.errors import field_error
from portal.core.guards import login_required, public
from portal.core.i18n import current_locale
from portal.core.i18n import gettext as _
from portal.core.limits import configured, sign_in_failed, sign_in_limit
from portal.core.security import log_event, safe_next
from portal.extensions import limiter

# Where a person lands after signing in when no ``next`` says otherwise: their desk, their
# community, or joining one. The rule reads every feature's queues, so the app factory hands it
# in (``set_landing``); until then, the home page.
_landing: Callable[[object], str] | None = None


def set_landing(rule: Callable[[object], str]) -> None:
    global _landing
    _landing = rule


def landing_url(user) -> str:
    return _landing(user) if _landing is not None else url_for("main.home")


def _sign_in(user, *, second_factor: bool = False) -> None:
    security.start_session(user, second_factor=second_factor)


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.shared_limit(configured("REGISTER_LIMIT"), scope="register", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    if not _methods_allow("email"):  # the number's sign-in page registers too
        return redirect(url_for("accounts.login"))
    form = RegisterForm()
    if request.method == "GET":
        from portal.core.i18n import current_locale

        form.locale.data = current_locale()
    if form.validate_on_submit():
        accounts.register(
            form.email.data,
            form.display_name.data,
            form.locale.data,
            # Where the person was going: the mailed link leads back there.
            next_url=safe_next(request.args.get("next"), "") or None,
        )
        log_event("register_requested")
        # The same page whether or not the address has an account already.
        return render_template("accounts/check_mail.html", email=form.email.data)
    return render_template("accounts/register.html", form=form, next=request.args.get("next"))


@bp.route("/register/<token>", methods=["GET", "POST"])
@public
def complete_registration(token: str):
    """The link of the registration mail: its owner chooses the password here, and the form
    creates the account (a link checker that opens the mail creates nothing), then signs them
    in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    data = accounts.registration_in(token)
    if data is None:
        return _registration_link_refused()
    form = CompleteRegistrationForm(email=data["email"], display_name=data["name"])
    if form.validate_on_submit():
        user = accounts.complete_registration(token, form.password.data)
        if user is None:  # the same link created the account a moment ago
            return _registration_link_refused()
        _sign_in(user)
        log_event("register", user=user.id)
        flash(
            _("Welcome! Your account is ready. Next, tell us which community you live in."),
            "success",
        )
        return redirect(safe_next(data.get("next"), landing_url(user)))
    return render_template("accounts/complete_registration.html", form=form, data=data)


def _registration_link_refused():
    flash(
        _("This link is invalid, expired or used already. Sign in, or register again."),
        "error",
    )
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
@sign_in_limit()
def login():
    # A safe same-site ``next`` wins; without one, the person lands where their work is.
    next_url = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_url or landing_url(current_user))
    form = LoginForm()
    if request.method == "POST" and not _methods_allow("email"):
        form.validate_on_submit()
        form.password.errors.append(_("This site signs in by mobile number and SMS code."))
        return _login_page(form=form, next_url=next_url), 400
    if form.validate_on_submit():
        wait = accounts.sign_in_wait(form.email.data, get_remote_address())
        if wait is not None:
            log_event("login_locked")
            form.password.errors.append(
                _(
                    "Too many failed sign-ins to this account from here. Try again in "
                    "%(minutes)d minutes, or reset your password.",
                    minutes=math.ceil(wait / 60),
                )
            )
            page = _login_page(form=form, next_url=next_url)
            return page, 429, {"Retry-After": str(wait)}
        user = accounts.authenticate(form.email.data, form.password.data, get_remote_address())
        if user is None:
            sign_in_failed()
            # The page answers 200, so the request's commit keeps the owner's notice of failed
            # sign-ins, when one is due (the API's 401 keeps it by ``keep_on_error``).
            log_event("login_failure", channel="web")
            form.password.errors.append(_("The email address or password is not correct."))
        else:
            log_event("login_success", channel="web", user=user.id)
            return security.first_step_passed(user, next_url, landing_url)
    return _login_page(form=form, next_url=next_url)


def _methods_allow(method: str) -> bool:
    return method in current_app.config["SIGN_IN_METHODS"]


def _login_page(*, form=None, phone_form=None, code_form=None, next_url="", sent=None) -> str:
    """The sign-in page: the number (or the code sent to it) first, then email and password
    where the site allows them."""
    return render_template(
        "accounts/login.html",
        form=form or LoginForm(formdata=None),
        phone_form=phone_form or PhoneForm(formdata=None),
        code_form=code_form,
        next=next_url,
        sent=sent,
        by_phone=_methods_allow("phone"),
        by_email=_methods_allow("email"),
    )


def _code_form_for(phone: str) -> CodeForm:
    code_form = CodeForm(formdata=None)
    code_form.phone.data = phone
    return code_form


@bp.post("/login/code")
@public
@limiter.limit(configured("SMS_SEND_LIMIT"))
def send_login_code():
    """Send a code to the number; the page comes back with the code field. Without script:
    the countdown before a new code is a sentence."""
    next_url = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_url or landing_url(current_user))
    if not _methods_allow("phone"):
        return redirect(url_for("accounts.login"))
    phone_form = PhoneForm()
    if not phone_form.validate_on_submit():
        return _login_page(phone_form=phone_form, next_url=next_url), 400
    try:
        sent = phones.send_code(
            phone_form.phone.data, get_remote_address(), locale=current_locale()
        )
    except phones.PhoneError as err:
        discard_changes()
        field_error(phone_form, err, "phone")
        # Too soon: the code sent a moment ago still works, so its field stays.
        code_form = _code_form_for(phones.normalize_phone(phone_form.phone.data) or "")
        page = _login_page(
            phone_form=phone_form,
            code_form=code_form if err.code == "too_soon" else None,
            next_url=next_url,
            sent={"wait": err.retry_after} if err.code == "too_soon" else None,
        )
        return page, err.status, err.headers
    log_event("sms_code_sent", channel="web")
    return _login_page(
        phone_form=phone_form,
        code_form=_code_form_for(sent.phone),
        next_url=next_url,
        sent={"wait": sent.resend_after, "phone": phones.display_phone(sent.phone)},
    )


@bp.post("/login/verify")
@public
@sign_in_limit()
@limiter.limit(configured("SMS_VERIFY_LIMIT"))
def verify_login_code():
    """Sign in with the code; a number new to the site becomes an account here, once its
    owner accepted the privacy notice, and is then asked for a display name."""
    next_url = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_url or landing_url(current_user))
    if not _methods_allow("phone"):
        return redirect(url_for("accounts.login"))
    code_form = CodeForm()
    phone = phones.normalize_phone(code_form.phone.data)
    phone_form = PhoneForm(formdata=None, phone=phones.display_phone(phone) if phone else "")
    if phone is None:
        return redirect(url_for("accounts.login"))
    if not code_form.validate_on_submit():
        return _login_page(phone_form=phone_form, code_form=code_form, next_url=next_url), 400
    row = phones.check_code(phone, code_form.code.data)
    if row is None:
        sign_in_failed()
        keep_on_error("the wrong try counts against the code")
        log_event("login_failure", channel="web", method="phone")
        field_error(code_form, phones.invalid_code())
        return _login_page(phone_form=phone_form, code_form=code_form, next_url=next_url), 401
    try:
        user, created = phones.sign_in_with_code(
            row, accept_privacy=code_form.accept_privacy.data, locale=current_locale()
        )
    except phones.PhoneError as err:
        discard_changes()
        field_error(code_form, err, "code")
        return _login_page(phone_form=phone_form, code_form=code_form, next_url=next_url), 400
    log_event("register" if created else "login_success", channel="web", user=user.id)
    if created:
        _sign_in(user)
        return redirect(url_for("accounts.welcome", next=next_url or None))
    return security.first_step_passed(user, next_url, landing_url)


@bp.route("/welcome", methods=["GET", "POST"])
@login_required
def welcome():
    """A new account's first page: the name shown next to what its owner writes."""
    user = current_user._get_current_object()
    next_url = safe_next(request.values.get("next"), "")
    form = NameForm()
    if form.validate_on_submit():
        accounts.update_profile(user, display_name=form.display_name.data)
        flash(_("Welcome! Next, tell us which community you live in."), "success")
        return redirect(next_url or landing_url(user))
    page = render_template("accounts/welcome.html", form=form, next=next_url)
    return page, 400 if request.method == "POST" else 200


@bp.get("/privacy")
@public
def privacy():
    return render_template(
        "accounts/privacy.html", version=current_app.config["PRIVACY_NOTICE_VERSION"]
    )


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        accounts.end_session(session.get("sid"))
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if request.method == "GET":
        form.large_text.data = user.display_mode == "large"
    if form.validate_on_submit():
        user.display_name = form.display_name.data.strip()
        accounts.set_preferences(
            user,
            locale=form.locale.data,
            display_mode="large" if form.large_text.data else "standard",
        )
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("accounts.account"))
    return _account_page(form=form)


def _account_page(**forms) -> str:
    user = current_user._get_current_object()
    forms.setdefault("form", ProfileForm(obj=user))
    forms.setdefault("password_form", ChangePasswordForm(prefix="pw"))
    forms.setdefault("phone_form", PhoneForm(formdata=None, prefix="ph"))
    return render_template(
        "accounts/account.html",
        empty=EmptyForm(),
        needs_phone=phones.needs_phone(user),
        phone=phones.display_phone(user.phone),
        **forms,
    )


def _phone_code_form(phone: str) -> CodeForm:
    form = CodeForm(formdata=None, prefix="pc")
    form.phone.data = phone
    return form


@bp.post("/account/phone")
@login_required
@security.reauth_required
@limiter.limit(configured("SMS_SEND_LIMIT"))
def change_phone_code():
    """Send a code to the new number; the account page comes back with its field."""
    user = current_user._get_current_object()
    phone_form = PhoneForm(prefix="ph")
    if not phone_form.validate_on_submit():
        return _account_page(phone_form=phone_form), 400
    try:
        sent = phones.send_code(
            phone_form.phone.data,
            get_remote_address(),
            purpose=phones.CHANGE_PHONE,
            user=user,
            locale=user.locale,
        )
    except phones.PhoneError as err:
        discard_changes()
        field_error(phone_form, err, "phone")
        return _account_page(phone_form=phone_form), err.status, err.headers
    return _account_page(
        phone_form=phone_form,
        phone_code_form=_phone_code_form(sent.phone),
        sent={"wait": sent.resend_after, "phone": phones.display_phone(sent.phone)},
    )


@bp.post("/account/phone/verify")
@login_required
@security.reauth_required
@limiter.limit(configured("SMS_VERIFY_LIMIT"))
def change_phone():
    """The code proves the new number: it becomes the account's."""
    user = current_user._get_current_object()
    code_form = CodeForm(prefix="pc")
    phone = phones.normalize_phone(code_form.phone.data)
    if phone is None:
        return redirect(url_for("accounts.account"))
    phone_form = PhoneForm(formdata=None, prefix="ph", phone=phones.display_phone(phone))
    if not code_form.validate_on_submit():
        return _account_page(phone_form=phone_form, phone_code_form=code_form), 400
    row = phones.check_code(phone, code_form.code.data, purpose=phones.CHANGE_PHONE, user=user)
    if row is None:
        keep_on_error("the wrong try counts against the code")
        field_error(code_form, phones.invalid_code())
        return _account_page(phone_form=phone_form, phone_code_form=code_form), 401
    try:
        phones.change_phone(user, row)
    except phones.PhoneError as err:
        discard_changes()
        field_error(phone_form, err, "phone")
        return _account_page(phone_form=phone_form), err.status
    log_event("phone_changed", user=user.id)
    flash(_("Your mobile number is verified and saved."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/password")
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            accounts.change_password(user, form.current_password.data, form.password.data)
        except accounts.AccountError as err:
            form.current_password.errors.append(err.message)
        else:
            # The other sessions end; this one continues as a new one, as far as it got.
            _sign_in(user, second_factor=not mfa.due())
            log_event("password_changed", user=user.id)
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(password_form=form), 400


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    form = EmptyForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        accounts.sign_out_everywhere(user)
        logout_user()
        session.clear()
        log_event("sign_out_everywhere", user=user.id)
        flash(_("You have been signed out on every device."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/account/confirm-email")
@login_required
def resend_confirmation():
    form = EmptyForm()
    if form.validate_on_submit() and not current_user.email_confirmed:
        accounts.send_confirmation(current_user._get_current_object())
        flash(_("We sent a new confirmation link to your email address."), "info")
    return redirect(url_for("accounts.account"))


@bp.get("/confirm/<token>")
@public
def confirm_email(token: str):
    user = accounts.confirm_email(token)
    if user is None:
        flash(
            _("This confirmation link is invalid or has expired. Sign in to ask for a new one."),
            "error",
        )
        return redirect(url_for("main.home"))
    flash(_("Your email address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    return redirect(url_for("main.home"))


@bp.route("/reset", methods=["GET", "POST"])
@public
@limiter.limit(configured("RESET_LIMIT"), methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        log_event("password_reset_requested")
        # The same answer whether or not the address has an account.
        flash(
            _(
                "If this address belongs to an account with a confirmed email, a reset link "
                "is on its way."
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(configured("RESET_LIMIT"), methods=["POST"])
def reset_password(token: str):
    user = accounts.user_for_reset_token(token)
    if user is None:
        flash(_("This reset link is invalid or has expired. Ask for a new one."), "error")
        return redirect(url_for("accounts.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.reset_password(user, form.password.data)
        log_event("password_reset", user=user.id)
        flash(_("Your password is changed. Please sign in."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)
