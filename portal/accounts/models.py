"""People and their sign-in state: users, browser sessions, API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("locale IN ('zh_Hans', 'en')", name="locale"),
        CheckConstraint("display_mode IN ('standard', 'large')", name="display_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
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

    community = relationship("Community", lazy="select")  # one query when needed, no join chain

    # Flask-Login asks for this; the session row, not the id alone, decides if it is valid.
    def get_id(self) -> str:
        return str(self.id)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class UserSession(Model):
    """A signed-in browser session. The cookie holds only its random id."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
