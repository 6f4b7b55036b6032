"""People and their sign-in state: users, browser sessions, API tokens."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.i18n import gettext as _
from portal.core.types import UTCDateTime
from portal.extensions import Model


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("locale IN ('zh_Hans', 'en')", name="locale"),
        CheckConstraint("display_mode IN ('standard', 'large')", name="display_mode"),
        CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL OR erased_at IS NOT NULL",
            name="email_or_phone",
        ),
        # A deleted account is a tombstone: nothing that names or reaches the person is left.
        CheckConstraint(
            "erased_at IS NULL OR (email IS NULL AND phone IS NULL AND password_hash IS NULL "
            "AND community_id IS NULL AND wechat_openid IS NULL)",
            name="erased_is_empty",
        ),
        CheckConstraint("phone IS NULL OR phone_verified_at IS NOT NULL", name="phone_verified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # An account has an email address (and a password), a verified mobile number, or both.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # Mainland mobile number in E.164 (+86…), only ever set once verified by an SMS code.
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The WeChat mini-program's openid linked to the account (after its number was verified):
    # one per account, one account per openid. WeChat's session_key is never kept.
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The privacy notice accepted when the account was made by SMS code, and when.
    privacy_version: Mapped[str | None] = mapped_column(String(20))
    privacy_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str] = mapped_column(String(8), default="zh_Hans")
    display_mode: Mapped[str] = mapped_column(String(10), default="standard")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on password change and "sign out everywhere": every older session and token dies.
    session_version: Mapped[int] = mapped_column(default=1)
    # The community whose residency is confirmed; one at most.
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # A keyed HMAC of the number (``number_hmac``), kept when the account is deleted: the
    # support and vote rules refuse a number that already took part as a deleted account.
    phone_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    # Set when the account was deleted: the row stays, as a tombstone, for the counts.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The second factor of staff accounts (``accounts.mfa``): the TOTP secret (base32), set
    # once its owner confirmed a first code; the last time step a code was accepted for, so
    # that each code is taken once (a conditional update moves it forward only).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger())

    community = relationship("Community", lazy="select")  # one query when needed, no join chain

    # Flask-Login asks for this; the session row, not the id alone, decides if it is valid.
    def get_id(self) -> str:
        return str(self.id)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def public_name(self) -> str:
        """The name shown with the person's public contributions: "former resident" once the
        account was deleted."""
        return public_name(self.display_name, self.erased_at)


def public_name(display_name: str, erased_at: datetime | None) -> str:
    """``User.public_name`` from the two columns, for lists that read rows, not users."""
    if erased_at is not None:
        return _("Former resident")
    return display_name


def number_hmac(phone: str) -> str:
    """The keyed HMAC of a number (``PRIVACY_HMAC_KEY``, else ``SECRET_KEY``): not a plain hash,
    which 11-digit numbers would give away in minutes."""
    cfg = current_app.config
    key = (cfg.get("PRIVACY_HMAC_KEY") or cfg["SECRET_KEY"]).encode()
    return hmac.new(key, f"number:{phone}".encode(), hashlib.sha256).hexdigest()


@event.listens_for(User.phone, "set")
def _keep_number_hmac(target: User, value: str | None, _old, _initiator) -> None:
    """Every account with a number carries its HMAC, so the rules compare numbers in SQL."""
    if value is not None:
        target.phone_hmac = number_hmac(value)


class UserSession(Model):
    """A signed-in browser session. The cookie holds only its random id."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When this session passed the staff second step (a TOTP or recovery code); a staff
    # account's session without it may only enrol or verify (``accounts.mfa.gate``).
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Shown on the account's list of sessions: the browser in a few words, the address
    # with its last part dropped (never the full address).
    device: Mapped[str | None] = mapped_column(String(80))
    ip_prefix: Mapped[str | None] = mapped_column(String(45))


class RecoveryCode(Model):
    """A single-use recovery code of a staff account's second factor; only its SHA-256 is
    kept. Used up by a conditional update, so one code signs in once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Model):
    """A bearer token for API clients; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_active", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Issued with the staff second factor (``otp``); a staff account's token without it
    # signs nobody in.
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SmsNumber(Model):
    """One row per mobile number that was ever sent a code: locked while a new code is
    decided, so parallel requests for one number cannot pass its caps."""

    __tablename__ = "sms_numbers"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SmsCode(Model):
    """A one-time code sent by SMS: only its HMAC is kept. ``purpose`` is "sign_in",
    "change_phone" or "reauth" (then ``user_id`` is the account that asked). Every row is a
    send, which the caps count."""

    __tablename__ = "sms_codes"
    __table_args__ = (
        CheckConstraint("purpose IN ('sign_in', 'change_phone', 'reauth')", name="purpose"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_sms_codes_phone_created", "phone", "created_at"),
        Index("ix_sms_codes_phone_ip_created", "phone", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(ForeignKey("sms_numbers.phone", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(45))
    code_hmac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WechatLinkToken(Model):
    """The short-lived, single-use permission to link a WeChat openid to the account of a number
    verified by SMS code (``POST /api/v1/auth/wechat/link``); only its SHA-256 is stored."""

    __tablename__ = "wechat_link_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
