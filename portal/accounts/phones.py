"""Mobile numbers and one-time SMS codes: sign in or register with a number, change it.

The rules of the codes are kept in the database, in force whatever the rate limiter does:
6 random digits, valid CODE_MINUTES, used once, stored only as an HMAC keyed by the app's
secret; a new code for a number no sooner than ``SMS_RESEND_SECONDS`` after the last; a code
is void after MAX_TRIES wrong tries; sends are capped per (number, address) an hour and a day
and per number a day. Every send for a number is decided with its ``sms_numbers`` row locked,
so parallel requests cannot pass the caps. No answer says whether a number has an account.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import SmsCode, SmsNumber, User
from portal.accounts.models import number_hmac as number_hmac  # the numbers' rules, together
from portal.core import clock
from portal.core.database import rowcount
from portal.core.errors import DomainError
from portal.core.i18n import force_locale
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.notifications import sms
from portal.notifications.sms import SmsDeliveryError, SmsMessage, send_sms

CODE_MINUTES = 5
MAX_TRIES = 5
SIGN_IN, CHANGE_PHONE = "sign_in", "change_phone"
# A code to the account's own number, proving its owner is there now (deleting the account).
REAUTH = "reauth"

_SEPARATORS = re.compile(r"[\s\-\u00a0().]")
_MAINLAND = re.compile(r"^1[3-9]\d{9}$")


class PhoneError(DomainError):
    """A rule about numbers or codes said no."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)} if retry_after else {}


# --- numbers ---------------------------------------------------------------------------------


def normalize_phone(raw: str | None) -> str | None:
    """A mainland mobile number as E.164 (+8613800138000), or None when ``raw`` is not one.
    Accepts 11 digits starting 1[3-9], with or without +86 / 0086 / 86, spaces and dashes."""
    digits = _SEPARATORS.sub("", (raw or "").strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not digits.isascii() or not _MAINLAND.match(digits):
        return None
    return "+86" + digits


def mask_phone(phone: str | None) -> str:
    """A number as staff pages show it: +86 138****8000."""
    if not phone:
        return ""
    national = phone[3:] if phone.startswith("+86") else phone
    return f"+86 {national[:3]}****{national[-4:]}"


def display_phone(phone: str | None) -> str:
    """The person's own number, grouped: +86 138 0013 8000."""
    if not phone:
        return ""
    national = phone[3:]
    return f"+86 {national[:3]} {national[3:7]} {national[7:]}"


def find_by_phone(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def find_person(who: str) -> User | None:
    """The account named by an email address or a mobile number (the CLI, admin pages)."""
    phone = normalize_phone(who)
    if phone is not None:
        return find_by_phone(phone)
    from portal.accounts.services import find_by_email

    return find_by_email(who) if "@" in who else None


def require_phone(raw: str | None, field: str = "phone") -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise PhoneError(
            "invalid_phone",
            _("Enter a mainland mobile number: 11 digits starting with 1, like 138 0013 8000."),
            field=field,
        )
    return phone


# --- codes -----------------------------------------------------------------------------------


def _digest(phone: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sms:{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _lock_number(phone: str) -> None:
    """Create or lock the number's row: one statement, so a parallel send for the number waits
    here until this transaction ends (PostgreSQL's row lock; SQLite's write lock)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SmsNumber).values(phone=phone, last_sent_at=None)
    stmt = stmt.on_conflict_do_update(index_elements=["phone"], set_={"phone": stmt.excluded.phone})
    db.session.execute(stmt)


def _wait(since: datetime | None, window: timedelta, now: datetime) -> int:
    if since is None:
        return 1
    return max(1, math.ceil((since + window - now).total_seconds()))


@dataclass
class Sent:
    phone: str
    resend_after: int  # seconds before the next code may be asked for


def send_code(
    raw_phone: str,
    ip: str,
    *,
    purpose: str = SIGN_IN,
    user: User | None = None,
    locale: str = "zh_Hans",
) -> Sent:
    """Send a new code to the number, under the caps; the same whether or not it has an
    account. Raises PhoneError: invalid_phone (400), too_soon or too_many (429, with
    ``retry_after``), sms_failed (503: the provider refused, nothing is counted)."""
    phone = require_phone(raw_phone)
    cfg = current_app.config
    _lock_number(phone)
    now = clock.now()  # read once the lock is held: the last send is then never later
    c = SmsCode.__table__.c
    last = db.session.scalar(select(func.max(c.created_at)).where(c.phone == phone))
    resend = timedelta(seconds=cfg["SMS_RESEND_SECONDS"])
    if resend and last is not None and now - last < resend:
        raise _too_soon(_wait(last, resend, now))
    hour, day = timedelta(hours=1), timedelta(days=1)
    for window, cap, pair in (
        (hour, cfg["SMS_PER_NUMBER_IP_HOUR"], True),
        (day, cfg["SMS_PER_NUMBER_IP_DAY"], True),
        (day, cfg["SMS_PER_NUMBER_DAY"], False),
    ):
        where = [c.phone == phone, c.created_at > now - window]
        if pair:
            where.append(c.ip == ip)
        count, oldest = db.session.execute(
            select(func.count(), func.min(c.created_at)).where(*where)
        ).one()
        if count >= cap:
            raise _too_many(_wait(oldest, window, now))
    code = f"{secrets.randbelow(10**6):06d}"
    # Earlier codes of the number for this purpose stop working: only the newest counts.
    db.session.execute(
        update(SmsCode)
        .where(c.phone == phone, c.purpose == purpose, c.used_at.is_(None), c.voided_at.is_(None))
        .values(voided_at=now)
    )
    db.session.add(
        SmsCode(
            phone=phone,
            purpose=purpose,
            user_id=user.id if user is not None else None,
            ip=ip[:45],
            code_hmac=_digest(phone, purpose, code),
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    )
    db.session.execute(update(SmsNumber).where(SmsNumber.phone == phone).values(last_sent_at=now))
    db.session.flush()
    with force_locale(locale):
        body = _(
            "[Commons] Your code is %(code)s, valid for %(minutes)d minutes. Never tell it to "
            "anyone, staff included.",
            code=code,
            minutes=CODE_MINUTES,
        )
    try:
        # Sent now, inside the transaction: the person must learn at once that no text is
        # coming (notifications.sms). A refusal undoes the code with the request, so it
        # uses up neither the wait nor the caps, and a new code may be asked for at once.
        send_sms(SmsMessage(phone, f"sms_{purpose}", body, template="code", params={"code": code}))
    except SmsDeliveryError as err:
        raise _not_sent(err) from None
    return Sent(phone, cfg["SMS_RESEND_SECONDS"])


def _not_sent(err: SmsDeliveryError) -> PhoneError:
    """What the person is told when the SMS service did not take the text."""
    if err.kind == sms.RATE_LIMITED:
        return PhoneError(
            "sms_rate_limited",
            _(
                "The text message service is holding back messages to this number for now. "
                "Please try again later."
            ),
            status=429,
            field="phone",
            retry_after=60,
        )
    if err.kind == sms.REJECTED:
        return PhoneError(
            "sms_rejected",
            _("This number cannot receive our text messages. Check it, or use another number."),
            status=400,
            field="phone",
        )
    return PhoneError(
        "sms_failed",
        _("The text message could not be sent just now. Please try again in a minute."),
        status=503,
        field="phone",
    )


def _too_soon(wait: int) -> PhoneError:
    return PhoneError(
        "too_soon",
        _(
            "A code was sent a moment ago. You can ask for a new one in %(seconds)d seconds.",
            seconds=wait,
        ),
        status=429,
        field="phone",
        retry_after=wait,
    )


def _too_many(wait: int) -> PhoneError:
    return PhoneError(
        "too_many",
        _(
            "Too many codes were asked for this number. Try again in %(minutes)d minutes.",
            minutes=math.ceil(wait / 60),
        ),
        status=429,
        field="phone",
        retry_after=wait,
    )


def invalid_code() -> PhoneError:
    return PhoneError(
        "invalid_code",
        _("This code is not correct, or no longer valid. Check it, or ask for a new code."),
        status=401,
        field="code",
    )


def check_code(
    phone: str, code: str, *, purpose: str = SIGN_IN, user: User | None = None
) -> SmsCode | None:
    """The live code of the number (for ``purpose``, and ``user`` when changing a number) if
    ``code`` is it, else None. A wrong try is counted (the caller commits it before refusing);
    the fifth voids the code. The code is not used up here (``use_code``)."""
    now = clock.now()
    c = SmsCode.__table__.c
    stmt = (
        select(SmsCode)
        .where(
            c.phone == phone,
            c.purpose == purpose,
            c.used_at.is_(None),
            c.voided_at.is_(None),
            c.expires_at > now,
        )
        .order_by(c.id.desc())
        .limit(1)
        .with_for_update()
    )
    if user is not None:
        stmt = stmt.where(c.user_id == user.id)
    row = db.session.scalar(stmt)
    if row is None:
        return None
    given = (code or "").strip()
    if (
        given.isascii()
        and given.isdigit()
        and hmac.compare_digest(row.code_hmac, _digest(phone, purpose, given))
    ):
        return row
    tries = row.attempts + 1
    db.session.execute(
        update(SmsCode)
        .where(c.id == row.id)
        .values(attempts=SmsCode.attempts + 1, voided_at=now if tries >= MAX_TRIES else None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return None


def use_code(row: SmsCode) -> None:
    """Spend the code, once: a parallel use of the same code finds it used."""
    done = db.session.execute(
        update(SmsCode)
        .where(SmsCode.id == row.id, SmsCode.used_at.is_(None), SmsCode.voided_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if rowcount(done) != 1:
        raise invalid_code()


# --- accounts by number ----------------------------------------------------------------------


def consent_required() -> PhoneError:
    return PhoneError(
        "consent_required",
        _("To create your account, read and accept the privacy notice."),
        status=400,
        field="accept_privacy",
    )


def sign_in_with_code(row: SmsCode, *, accept_privacy: bool, locale: str) -> tuple[User, bool]:
    """The account of the verified number, made now when it has none (only with the privacy
    notice accepted: its version and the time are kept); the code is then spent. Returns the
    user and whether the account is new (it then has a placeholder name to replace)."""
    phone = row.phone
    user = find_by_phone(phone)
    if user is not None:
        use_code(row)
        return user, False
    if not accept_privacy:
        raise consent_required()  # the code stays valid for the second try
    use_code(row)
    now = clock.now()
    user = User(
        phone=phone,
        phone_verified_at=now,
        display_name=placeholder_name(),
        locale=locale,
        privacy_version=current_app.config["PRIVACY_NOTICE_VERSION"],
        privacy_accepted_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:  # the same number registered a moment ago, in parallel
        existing = find_by_phone(phone)
        if existing is None:
            raise
        return existing, False
    return user, True


def placeholder_name() -> str:
    """A new account's name until its owner chooses one: never a piece of the number."""
    return _("Neighbour %(n)d", n=1000 + secrets.randbelow(9000))


def change_phone(user: User, row: SmsCode) -> None:
    """Give the account the number the code proved; one account per number."""
    other = find_by_phone(row.phone)
    if other is not None and other.id != user.id:
        raise PhoneError(
            "phone_taken",
            _("This number belongs to another account. Sign in with it there."),
            status=409,
            field="phone",
        )
    use_code(row)
    user.phone = row.phone
    user.phone_verified_at = clock.now()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise PhoneError(
            "phone_taken",
            _("This number belongs to another account. Sign in with it there."),
            status=409,
            field="phone",
        ) from None


def needs_phone(user) -> bool:
    """With ``SIGN_IN_METHODS=phone``, an account takes part (proposes, comments, supports)
    only once it has verified a number."""
    methods = current_app.config["SIGN_IN_METHODS"]
    return "email" not in methods and getattr(user, "phone", None) is None


def check_may_take_part(user) -> None:
    """The rule every way of taking part asks (a proposal, a comment, a support): with
    ``SIGN_IN_METHODS=phone``, an account without a verified number may not yet."""
    if needs_phone(user):
        raise PhoneError(
            "phone_required",
            _("Verify your mobile number on your account page before you take part."),
            status=403,
        )
