"""Register, sign in and out, account settings, email confirmation, password reset."""

from __future__ import annotations

import math
from collections.abc import Callable

from flask import flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from portal.accounts import bp
from portal.accounts import services as accounts
from portal.accounts.forms import (
    ChangePasswordForm,
    CompleteRegistrationForm,
    EmptyForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from portal.core.guards import login_required, public
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


def _sign_in(user) -> None:
    """A fresh session for every sign-in: nothing from the anonymous session carries over."""
    lang = session.get("lang")
    session.clear()
    row = accounts.start_session(user)
    session["sid"] = row.id
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(user)


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.shared_limit(configured("REGISTER_LIMIT"), scope="register", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
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
            page = render_template("accounts/login.html", form=form, next=next_url)
            return page, 429, {"Retry-After": str(wait)}
        user = accounts.authenticate(form.email.data, form.password.data, get_remote_address())
        if user is None:
            sign_in_failed()
            # The page answers 200, so the request's commit keeps the owner's notice of failed
            # sign-ins, when one is due (the API's 401 keeps it by ``keep_on_error``).
            log_event("login_failure", channel="web")
            form.password.errors.append(_("The email address or password is not correct."))
        else:
            _sign_in(user)
            log_event("login_success", channel="web", user=user.id)
            return redirect(next_url or landing_url(user))
    return render_template("accounts/login.html", form=form, next=next_url)


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
    return render_template(
        "accounts/account.html",
        form=form,
        password_form=ChangePasswordForm(prefix="pw"),
        empty=EmptyForm(),
    )


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
            _sign_in(user)  # the other sessions end; this one continues as a new one
            log_event("password_changed", user=user.id)
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("accounts.account"))
    profile = ProfileForm(obj=user)
    return render_template(
        "accounts/account.html", form=profile, password_form=form, empty=EmptyForm()
    ), 400


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
