"""The staff second step at sign-in, enrolling in it, confirming it is you before a sensitive
change (re-authentication), and the account's list of signed-in sessions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user

from portal.accounts import bp, mfa, phones
from portal.accounts import services as accounts
from portal.accounts.auth import hash_token
from portal.accounts.forms import EmptyForm, EnrolForm, ReauthForm, SecondStepForm
from portal.accounts.models import User
from portal.accounts.passwords import verify_password
from portal.core import clock
from portal.core.database import discard_changes, keep_on_error
from portal.core.errors import error_response, field_error, wants_json
from portal.core.guards import login_required, public
from portal.core.i18n import gettext as _
from portal.core.limits import configured, sign_in_failed, sign_in_limit
from portal.core.security import log_event, safe_next
from portal.extensions import db, limiter

_PENDING = "second_step"  # the session's marker of a sign-in waiting for its second step
_REAUTH = "reauth_at"


# --- signing in ------------------------------------------------------------------------------


def start_session(user: User, *, second_factor: bool = False) -> None:
    """A fresh session for every sign-in: nothing from the anonymous session carries over."""
    lang = session.get("lang")
    session.clear()
    row = accounts.start_session(
        user,
        device=request.headers.get("User-Agent"),
        address=get_remote_address(),
        second_factor=second_factor,
    )
    session["sid"] = row.id
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(user)


def first_step_passed(user: User, next_url: str, landing: Callable[[User], str]):
    """The password or SMS code was right. An account with a second factor is not signed in
    yet: the session keeps a short-lived marker, and the second step's page asks for the
    code. Others are signed in (staff without a second factor can then only enrol)."""
    if not mfa.required_at_sign_in(user):
        start_session(user)
        return redirect(next_url or landing(user))
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[_PENDING] = {
        "uid": user.id,
        "v": user.session_version,
        "at": int(clock.now().timestamp()),
        "next": next_url,
    }
    return redirect(url_for("accounts.second_step"))


def _pending_user() -> tuple[User | None, str]:
    marker = session.get(_PENDING)
    if not isinstance(marker, dict):
        return None, ""
    age = clock.now().timestamp() - int(marker.get("at", 0))
    if age > current_app.config["SECOND_STEP_MINUTES"] * 60:
        session.pop(_PENDING, None)
        return None, ""
    user = db.session.get(User, marker.get("uid"))
    if user is None or user.session_version != marker.get("v"):
        return None, ""
    return user, safe_next(marker.get("next"), "")


@bp.route("/login/two-factor", methods=["GET", "POST"])
@public
@sign_in_limit()
@limiter.limit(configured("SMS_VERIFY_LIMIT"), methods=["POST"])
def second_step():
    """Sign-in's second step for an account with a second factor; also where a signed-in
    staff session that has not passed it (a role granted since) enters a code."""
    from portal.accounts.views import landing_url

    signed_in = current_user.is_authenticated
    if signed_in:
        if not mfa.due():
            return redirect(landing_url(current_user))
        user = current_user._get_current_object()
        if not user.mfa_enabled:
            return redirect(url_for("accounts.mfa_setup"))
        next_url = safe_next(request.values.get("next"), "")
    else:
        pending, next_url = _pending_user()
        if pending is None:
            flash(_("Sign in first; then enter the code from your authenticator app."), "info")
            return redirect(url_for("accounts.login"))
        user = pending
    form = SecondStepForm()
    if form.validate_on_submit():
        wait = mfa.failure_wait(user)
        if wait is not None:
            log_event("second_step_locked", user=user.id)
            form.code.errors.append(
                _(
                    "Too many wrong codes. Try again in %(minutes)d minutes.",
                    minutes=max(1, -(-wait // 60)),
                )
            )
            return _second_step_page(form), 429, {"Retry-After": str(wait)}
        if not mfa.check_second_factor(user, form.code.data):
            sign_in_failed()
            mfa.count_failure(user)
            keep_on_error("the owner's notice of failed second steps, when one is due")
            log_event("second_step_failure", channel="web", user=user.id)
            form.code.errors.append(
                _("The code is not correct or was used already. Wait for the next code.")
            )
            return _second_step_page(form), 401
        if signed_in:
            mfa.mark_session(session["sid"])
        else:
            start_session(user, second_factor=True)
        log_event("second_step_success", channel="web", user=user.id)
        return redirect(next_url or landing_url(user))
    status = 400 if request.method == "POST" else 200
    return _second_step_page(form), status


def _second_step_page(form) -> str:
    return render_template("accounts/second_step.html", form=form)


# --- re-authentication -----------------------------------------------------------------------


def recently_confirmed() -> bool:
    at = session.get(_REAUTH)
    minutes = current_app.config["REAUTH_MINUTES"]
    return isinstance(at, int) and 0 <= clock.now().timestamp() - at <= minutes * 60


def reauth_required(view: Callable) -> Callable:
    """Before changing a number, a password or role grants: the person confirmed who they are
    a few minutes ago (``REAUTH_MINUTES``), else they do it first and come back."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.is_authenticated and not recently_confirmed():
            if wants_json():
                return error_response(401, "reauthentication_required", "Confirm it is you first.")
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            back = back or request.referrer or url_for("accounts.account")
            return redirect(url_for("accounts.reauthenticate", next=safe_next(back, "")))
        return view(*args, **kwargs)

    return wrapper


# --- enrolling -------------------------------------------------------------------------------


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def mfa_setup():
    """Set up two-step sign-in: the secret as text and as a QR code, confirmed by a first
    code; then the recovery codes, shown once. Once set up: how many recovery codes are
    left, and new ones."""
    user = current_user._get_current_object()
    if user.mfa_enabled:
        return render_template(
            "accounts/two_factor.html",
            left=mfa.recovery_codes_left(user),
            empty=EmptyForm(),
            staff=mfa.holds_roles(user),
        )
    secret = session.get("totp_setup")
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session["totp_setup"] = mfa.new_secret()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = mfa.enrol(user, secret, form.code.data)
        except mfa.MfaError as err:
            discard_changes()
            field_error(form, err, "code")
        else:
            session.pop("totp_setup", None)
            mfa.mark_session(session["sid"])
            log_event("second_factor_enrolled", user=user.id)
            next_url = safe_next(request.values.get("next"), "")
            return _show_codes(codes, next_url)
    uri = mfa.provisioning_uri(user, secret)
    page = render_template(
        "accounts/two_factor_setup.html",
        form=form,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr=mfa.qr_svg(uri, _("QR code of the two-step sign-in secret")),
        next=safe_next(request.values.get("next"), ""),
    )
    return page, 400 if request.method == "POST" else 200


@bp.post("/account/two-factor/recovery-codes")
@login_required
@reauth_required
def new_recovery_codes():
    user = current_user._get_current_object()
    if not user.mfa_enabled or not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.mfa_setup"))
    codes = mfa.new_recovery_codes(user)
    log_event("recovery_codes_renewed", user=user.id)
    return _show_codes(codes, url_for("accounts.mfa_setup"))


def _show_codes(codes: list[str], next_url: str):
    page = render_template("accounts/recovery_codes.html", codes=codes, next=next_url)
    # Shown once: never kept by a cache or the browser's history.
    return page, 200, {"Cache-Control": "no-store"}


def _confirm(user: User, secret: str) -> bool:
    secret = secret.strip()
    if user.mfa_enabled and "".join(secret.split()).isdigit() and len(secret) <= 7:
        return mfa.accept_totp(user, secret)
    if user.password_hash:
        return verify_password(user.password_hash, secret)
    if user.phone:
        row = phones.check_code(user.phone, secret, purpose=phones.CHANGE_PHONE, user=user)
        if row is not None:
            phones.use_code(row)
            return True
    return False


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit(configured("SMS_VERIFY_LIMIT"), methods=["POST"])
def reauthenticate():
    user = current_user._get_current_object()
    next_url = safe_next(request.values.get("next"), "") or url_for("accounts.account")
    form = ReauthForm()
    if form.validate_on_submit():
        wait = mfa.failure_wait(user)
        if wait is None and _confirm(user, form.secret.data):
            session[_REAUTH] = int(clock.now().timestamp())
            log_event("reauthenticated", user=user.id)
            return redirect(next_url)
        mfa.count_failure(user)
        keep_on_error("the wrong try counts against the code")
        form.secret.errors.append(_("This is not correct. Try again."))
        return _reauth_page(form, next_url), 401
    return _reauth_page(form, next_url), 400 if request.method == "POST" else 200


def _reauth_page(form, next_url: str, sent: dict | None = None) -> str:
    user = current_user._get_current_object()
    return render_template(
        "accounts/reauthenticate.html",
        form=form,
        next=next_url,
        by_sms=bool(user.phone) and not user.password_hash and not user.mfa_enabled,
        phone=phones.display_phone(user.phone),
        sent=sent,
        empty=EmptyForm(),
    )


@bp.post("/account/confirm/code")
@login_required
@limiter.limit(configured("SMS_SEND_LIMIT"))
def reauth_code():
    """For an account with a number only: a fresh code to its own number confirms it."""
    user = current_user._get_current_object()
    next_url = safe_next(request.values.get("next"), "") or url_for("accounts.account")
    by_sms = bool(user.phone) and not user.password_hash and not user.mfa_enabled
    if not EmptyForm().validate_on_submit() or not by_sms:
        return redirect(url_for("accounts.reauthenticate", next=next_url))
    form = ReauthForm(formdata=None)
    try:
        sent = phones.send_code(
            user.phone,
            get_remote_address(),
            purpose=phones.CHANGE_PHONE,
            user=user,
            locale=user.locale,
        )
    except phones.PhoneError as err:
        discard_changes()
        form.secret.errors.append(err.message)
        return _reauth_page(form, next_url), err.status, err.headers
    return _reauth_page(form, next_url, sent={"wait": sent.resend_after})


# --- sessions --------------------------------------------------------------------------------


@bp.get("/account/sessions")
@login_required
def sessions():
    user = current_user._get_current_object()
    return render_template(
        "accounts/sessions.html",
        sessions=accounts.active_sessions(user),
        tokens=accounts.active_tokens(user),
        this=session.get("sid"),
        handle=handle,
        empty=EmptyForm(),
    )


def handle(sid: str) -> str:
    """How the page names a session in its forms: never the id itself, which the cookie
    carries."""
    return hash_token("session:" + sid)[:20]


@bp.post("/account/sessions/<session_ref>/end")
@login_required
def end_session(session_ref: str):
    user = current_user._get_current_object()
    if EmptyForm().validate_on_submit():
        found = [s.id for s in accounts.active_sessions(user) if handle(s.id) == session_ref]
        if not found or found[0] == session.get("sid"):
            return redirect(url_for("accounts.sessions"))  # "sign out" is the header's button
        if accounts.end_own_session(user, found[0]):
            log_event("session_ended", user=user.id)
            flash(_("That device is signed out."), "success")
    return redirect(url_for("accounts.sessions"))


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    user = current_user._get_current_object()
    if EmptyForm().validate_on_submit() and accounts.revoke_own_token(user, token_id):
        log_event("token_revoked", user=user.id)
        flash(_("The app's token is revoked."), "success")
    return redirect(url_for("accounts.sessions"))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    user = current_user._get_current_object()
    if EmptyForm().validate_on_submit():
        ended = accounts.end_other_sessions(user, session.get("sid"))
        log_event("other_sessions_ended", user=user.id, count=ended)
        flash(_("Every other device and app is signed out."), "success")
    return redirect(url_for("accounts.sessions"))
