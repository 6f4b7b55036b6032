"""The staff second factor: TOTP (RFC 6238) with single-use recovery codes, and the gate that
keeps a staff session that has not passed it away from everything but enrolling.

A code is accepted for the current 30-second step and one step either side
(``VALID_WINDOW``: clocks drift, and people type slowly). Each step is accepted once per
account: the account's last accepted step only moves forward, by a conditional update, so
two requests with the same code cannot both pass, and a code older than the last accepted
one is refused too (unless the last one lies beyond the window: the clock was put back). A
script that has just used the code of step *n* may use step *n + 1*'s at once (the window
allows it); after that it waits for the clock (``tools/totp_code.py``).
"""

from __future__ import annotations

import hmac
import math
import secrets
import time

import pyotp
import segno
from flask import current_app, g, redirect, request, session, url_for
from limits import parse as parse_limit
from markupsafe import Markup
from sqlalchemy import delete, exists, or_, select, update

from portal.accounts.auth import hash_token
from portal.accounts.models import RecoveryCode, User, UserSession
from portal.core import clock
from portal.core.database import rowcount
from portal.core.errors import DomainError, error_response, wants_json
from portal.core.i18n import force_locale
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.urls import external_url
from portal.extensions import db, limiter
from portal.notifications.mail import queue_email
from portal.notifications.services import notify, register_type

STEP_SECONDS = 30
VALID_WINDOW = 1  # steps accepted either side of now
RECOVERY_CODES = 10
ISSUER = "Commons"


class MfaError(DomainError):
    pass


class _TOTP(pyotp.TOTP):
    """pyotp's TOTP, taking the demo's well-known 80-bit secret too (``JBSWY3DPEHPK3PXP``,
    ``portal.demo``); every secret made here has 160 bits (``new_secret``). pyotp documents
    the class attribute as the way to change its minimum."""

    min_secret_length_bits = 80


def holds_roles(user) -> bool:
    """Is this account staff (any role grant): then it needs the second factor."""
    from portal.roles.models import RoleGrant

    return bool(db.session.scalar(select(exists().where(RoleGrant.user_id == user.id))))


def required_at_sign_in(user) -> bool:
    """Signing in asks for the second step: the account has enrolled (staff, or once staff)."""
    return user.totp_enabled_at is not None


# --- codes -----------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    name = user.email or user.phone or str(user.id)
    return _TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> Markup:
    # Reviewed exception: segno writes this SVG itself and escapes its one text, our title.
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, title=title))  # noqa: S704  # nosec B704


def current_step(now=None) -> int:
    return int((now or clock.now()).timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp, now = _TOTP(secret), current_step()
    found = None
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step
    return found


def accept_totp(user: User, code: str) -> bool:
    """The code is the account's for now and newer than the last one accepted: taken, once."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code)
    if step is None:
        return False
    done = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(
                User.totp_last_step.is_(None),
                User.totp_last_step < step,
                # Beyond any step the clock can give now: the clock went back (a correction),
                # and the codes taken then are not those of now. Else staff would be shut out
                # until the clock caught up.
                User.totp_last_step > current_step() + VALID_WINDOW,
            ),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return rowcount(done) == 1


def _normal_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh single-use codes; the old ones stop working. Shown once: only hashes stay."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_token(_normal_recovery(code))))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    normal = _normal_recovery(code)
    if len(normal) != 10:
        return False
    done = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(normal),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
    )
    return rowcount(done) == 1


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            select(db.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def check_second_factor(user: User, code: str) -> bool:
    """A TOTP code (6 digits) or an unused recovery code of the account."""
    code = (code or "").strip()
    if not code:
        return False
    if "".join(code.split()).isdigit():
        return accept_totp(user, code)
    return use_recovery_code(user, code)


def enrol(user: User, secret: str, code: str) -> list[str]:
    """Confirm the secret with a first code: the account now signs in with it. Returns the
    recovery codes, to show once."""
    step = _matching_step(secret, code)
    if step is None:
        raise MfaError(
            "invalid_otp",
            _("The code is not correct. Check the time on your phone and try the newest code."),
            field="code",
        )
    done = db.session.execute(
        update(User)
        .where(User.id == user.id, User.totp_enabled_at.is_(None))
        .values(totp_secret=secret, totp_enabled_at=clock.now(), totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if rowcount(done) != 1:
        raise MfaError("already_enrolled", _("Two-step sign-in is already set up."), field="code")
    db.session.refresh(user)
    return new_recovery_codes(user)


# --- an administrator's reset ---------------------------------------------------------------

register_type(
    "second_factor_reset",
    _l(
        "An administrator reset your two-step sign-in. Sign in again and set it up with your "
        "authenticator app; your old recovery codes no longer work."
    ),
)


def reset_by_admin(admin: User, user: User) -> None:
    """For a staff member who lost both the phone and the recovery codes: the secret and the
    codes go, every session and token of the account ends, and the next sign-in asks to enrol
    again (the staff gate). The administrator acts on someone else only (their own is reset on
    their account's page, which asks for a code first); the owner is told, and the log keeps it."""
    from portal.accounts.services import sign_out_everywhere
    from portal.audit.services import record

    if user.id == admin.id:
        raise MfaError(
            "own_account",
            _("Change your own two-step sign-in on your account's security page."),
            field="person",
        )
    if user.totp_enabled_at is None:
        raise MfaError(
            "not_enrolled", _("This person has not set up two-step sign-in."), field="person"
        )
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(totp_secret=None, totp_enabled_at=None, totp_last_step=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sign_out_everywhere(user)  # refreshes the user
    record(admin, "second_factor.reset", user)
    notify(
        [user], "second_factor_reset", user, url=url_for("accounts.login"), subject_type="account"
    )
    if not user.email_confirmed:
        return
    with force_locale(user.locale):
        subject = _("Your two-step sign-in on Commons was reset")
        body = _(
            "Hello %(name)s,\n\nAn administrator reset your two-step sign-in (for example after a "
            "lost phone). Every device was signed out and your old recovery codes no longer "
            "work. Sign in again and set up your authenticator app:\n%(link)s\n\nIf you did "
            "not ask for this, tell your administrator at once.",
            name=user.display_name,
            link=external_url("accounts.login"),
        )
    queue_email(user, subject, body, kind="second_factor_reset")


# --- failures --------------------------------------------------------------------------------


def _counting() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def failure_wait(user: User) -> int | None:
    """Seconds before the account's second step may be tried again, or None."""
    if not _counting():
        return None
    item = parse_limit(current_app.config["SECOND_FACTOR_FAILURES"])
    key = f"second-step-failures:{user.id}"
    if limiter.limiter.test(item, key):
        return None
    reset_at, _remaining = limiter.limiter.get_window_stats(item, key)
    return max(1, math.ceil(reset_at - time.time()))


register_type(
    "second_factor_failures",
    _l(
        "Someone signed in to your account with the right password or SMS code, then entered "
        "wrong two-step codes several times. If it was not you, change your password now."
    ),
)


def count_failure(user: User) -> None:
    """A wrong second-step code: counts against the account, and tells its owner when they
    pile up (as failed sign-ins do: someone who knows the password is at the door)."""
    if not _counting():
        return
    item = parse_limit(current_app.config["SECOND_FACTOR_FAILURES"])
    key = f"second-step-failures:{user.id}"
    limiter.limiter.hit(item, key)
    _reset, remaining = limiter.limiter.get_window_stats(item, key)
    failures = item.amount - remaining
    alert_after = min(current_app.config["LOGIN_FAILURE_ALERT_AFTER"], item.amount)
    if failures >= alert_after and limiter.limiter.hit(
        parse_limit(current_app.config["LOGIN_FAILURE_ALERTS"]), f"second-step-alert:{user.id}"
    ):
        _tell_owner(user)


def _tell_owner(user: User) -> None:
    """In the app and, to a confirmed address, by email (as ``accounts.services`` tells of
    failed sign-ins)."""
    notify(
        [user],
        "second_factor_failures",
        user,
        url=url_for("accounts.account"),
        subject_type="account",
    )
    if not user.email_confirmed:
        return
    with force_locale(user.locale):
        subject = _("Wrong two-step codes on your Commons account")
        body = _(
            "Hello %(name)s,\n\nSomeone signed in to your account with the right password or "
            "SMS code, then entered wrong two-step codes several times. If it was you, there "
            "is nothing to do. If not, someone knows your password: choose a new one now:\n"
            "%(link)s",
            name=user.display_name,
            link=external_url("accounts.reset_request"),
        )
    queue_email(user, subject, body, kind="second_factor_failures")


# --- sessions --------------------------------------------------------------------------------


def mark_session(session_id: str) -> None:
    db.session.execute(
        update(UserSession).where(UserSession.id == session_id).values(second_factor_at=clock.now())
    )


# Where a staff session that has not passed the second step may still go.
OPEN_ENDPOINTS: frozenset[str] = frozenset(
    {
        "static",
        "accounts.mfa_setup",
        "accounts.second_step",
        "accounts.logout",
        "accounts.privacy",
        "main.set_language",
        "main.set_display",
        "main.healthz",
    }
)


def due() -> bool:
    """This request's session belongs to staff and has not passed the second step."""
    return bool(g.get("second_factor_due"))


def gate():
    """Before every page: a staff account whose session has not passed the second step is
    sent to enrol (no second factor yet) or to enter a code. One rule for every staff page:
    no staff view runs for such a session. The API checks its tokens instead
    (``accounts.bearer``)."""
    if not session.get("sid") or (
        request.blueprint == "api" and "Authorization" in request.headers
    ):
        return None
    from flask_login import current_user

    if not current_user.is_authenticated or not due():
        return None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.blueprint == "api":  # by cookie: the API sees nobody signed in
        from portal.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
        return None
    if wants_json():
        return error_response(
            403, "second_factor_required", "Staff accounts pass the two-step sign-in first."
        )
    target = "accounts.second_step" if current_user.mfa_enabled else "accounts.mfa_setup"
    nxt = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for(target, next=nxt))


def install(app) -> None:
    app.before_request(gate)
