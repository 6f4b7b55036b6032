"""The outgoing mail queue: services queue, ``flask outbox send`` delivers over SMTP."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage

from flask import current_app

from portal.core import clock
from portal.extensions import db
from portal.notifications.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def queue_email(user, subject: str, body: str, *, kind: str) -> OutboxMessage | None:
    """Nothing for an account without an email address (made by mobile number)."""
    if not user.email:
        return None
    return queue_email_to(user.email, subject, body, kind=kind, user_id=user.id)


def queue_email_to(
    address: str, subject: str, body: str, *, kind: str, user_id: int | None = None
) -> OutboxMessage:
    """A message to an address that may belong to no account (yet)."""
    msg = OutboxMessage(user_id=user_id, to_address=address, subject=subject, body=body, kind=kind)
    db.session.add(msg)
    db.session.flush()
    if current_app.config.get("MAIL_ECHO"):
        # Development: show the message (with its links) on the console instead of sending it.
        print(f"\n--- outbox #{msg.id} to {msg.to_address}\nSubject: {subject}\n\n{body}\n---\n")
    return msg


def _connect():
    cfg = current_app.config
    host, port = cfg["MAIL_SERVER"], cfg["MAIL_PORT"]
    smtp: smtplib.SMTP
    if cfg["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, context=ssl.create_default_context(), timeout=30)
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if cfg.get("MAIL_USERNAME"):
        smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    return smtp


def send_outbox(limit: int = 200) -> Iterator[bool]:
    """Send queued messages, yielding after each whether it was sent; the caller (``flask
    outbox send``) commits each, so that a message sent is never sent again."""
    if not current_app.config.get("MAIL_SERVER"):
        raise RuntimeError("MAIL_SERVER is not configured")
    pending = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    if not pending:
        return
    smtp = _connect()
    try:
        for msg in pending:
            email = EmailMessage()
            email["From"] = current_app.config["MAIL_FROM"]
            email["To"] = msg.to_address
            email["Subject"] = msg.subject
            email.set_content(msg.body)
            msg.attempts += 1
            try:
                smtp.send_message(email)
            except smtplib.SMTPException as exc:
                msg.last_error = str(exc)[:500]
                log.warning("outbox message %s failed: %s", msg.id, type(exc).__name__)
                yield False
            else:
                msg.sent_at = clock.now()
                yield True
    finally:
        with contextlib.suppress(smtplib.SMTPException):
            smtp.quit()
