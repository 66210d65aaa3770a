"""Outgoing mail: sent through SMTP when configured, else written to var/outbox/ as .eml files.

Mail queued during a transaction is sent only after it commits, so a rolled-back claim never
sends a message.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage

from sqlalchemy import event
from sqlmodel import Session

from app.core import metrics
from app.core.config import Settings

log = logging.getLogger("kitrun.mail")


def build(*, settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@kitrun>"
    msg.set_content(body)
    return msg


def send(settings: Settings, msg: EmailMessage) -> None:
    """Deliver one message now (SMTP or the outbox folder)."""
    if settings.smtp_host:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
        log.info("mail sent via SMTP (%s)", msg["Message-ID"])
        return
    outbox = settings.outbox_dir
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{msg['Message-ID'].strip('<>').split('@')[0]}.eml"
    path.write_bytes(bytes(msg))
    # the address stays out of the log: it is personal data
    log.info("mail written to %s", path)


def queue(session: Session, settings: Settings, msg: EmailMessage) -> None:
    """Send msg once the session's transaction commits; drop it on rollback."""
    pending = session.info.setdefault("kitrun_mail", [])
    pending.append((settings, msg))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop("kitrun_mail", [])
    for settings, msg in pending:
        try:
            send(settings, msg)
        except (OSError, smtplib.SMTPException):
            log.exception("could not send mail %s", msg["Message-ID"])
            metrics.MAIL_FAILED.labels("smtp" if settings.smtp_host else "outbox").inc()


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop("kitrun_mail", None)


def in_outbox(settings: Settings, addresses: set[str], codes: set[str]) -> list[tuple]:
    """The outbox mails (path, message) addressed to one of `addresses` or quoting one of
    `codes` (a claim's token or short code): one person's mail, for access and erasure."""
    from email.parser import BytesParser
    from email.policy import default as default_policy

    outbox = settings.outbox_dir
    if not outbox.is_dir():
        return []
    addresses = {a.lower() for a in addresses}
    found = []
    for path in sorted(outbox.glob("*.eml")):
        raw = path.read_bytes()
        msg = BytesParser(policy=default_policy).parsebytes(raw)
        to = {a.addr_spec.lower() for a in getattr(msg["To"], "addresses", ())}
        body = raw.decode("utf-8", "replace")
        if (to & addresses) or any(code and code in body for code in codes):
            found.append((path, msg))
    return found
