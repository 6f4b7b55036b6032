"""Text messages: one small provider interface (``SMS_PROVIDER``), like mail's outbox.

The ``console`` provider (development, demo, tests) delivers by printing the message (when
``SMS_ECHO``) and keeping it in the outbox, where ``flask outbox list --to NUMBER`` shows it.
A provider that cannot deliver raises ``SmsDeliveryError`` with a message a person can read;
the caller turns it into a clear answer (never a 500) and the send can be retried.
"""

from __future__ import annotations

import logging
from typing import Protocol

from flask import current_app

from portal.core import clock
from portal.extensions import db
from portal.notifications.models import OutboxMessage

log = logging.getLogger(__name__)


class SmsDeliveryError(Exception):
    """The provider did not take the message; ``reason`` is a short code for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmsProvider(Protocol):
    def send(self, phone: str, body: str, *, kind: str) -> None:
        """Deliver ``body`` to ``phone`` (E.164) or raise SmsDeliveryError."""


class ConsoleProvider:
    """Keeps the message in the outbox, delivered at once, and prints it when asked to."""

    def send(self, phone: str, body: str, *, kind: str) -> None:
        msg = OutboxMessage(
            to_address=phone,
            subject="SMS",
            body=body,
            kind=kind,
            sent_at=clock.now(),
            attempts=1,
        )
        db.session.add(msg)
        db.session.flush()
        if current_app.config.get("SMS_ECHO"):
            print(f"\n--- SMS #{msg.id} to {phone}\n{body}\n---\n", flush=True)


PROVIDERS: dict[str, type] = {"console": ConsoleProvider}


def provider() -> SmsProvider:
    return PROVIDERS[current_app.config["SMS_PROVIDER"]]()


def send_sms(phone: str, body: str, *, kind: str) -> None:
    """Send through the configured provider; a refusal is logged and raised again."""
    try:
        provider().send(phone, body, kind=kind)
    except SmsDeliveryError as err:
        # Never the whole number in the log: the numbers staff see are masked too.
        national = phone.removeprefix("+86")
        log.warning("sms to +86 %s****%s failed: %s", national[:3], national[-4:], err.reason)
        raise


def latest_to(address: str, limit: int = 10) -> list[OutboxMessage]:
    """The latest messages (texts and mails) to one number or address, newest first."""
    return list(
        db.session.scalars(
            db.select(OutboxMessage)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
