"""Mail, sent by a background job through SMTP (``KAMI_MAIL_*``): a request only queues it, a failed
send is retried with backoff and ends as a dead letter (``kami jobs dead``) if it keeps failing.

Python's own ``smtplib`` in a worker thread does the sending: one message at a time, a few a minute,
needs nothing more.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import anyio
import structlog

from kami.jobs.runner import JobContext, JobSpec
from kami.settings import MailSettings, Settings

__all__ = ["MAIL_JOB", "MailNotConfiguredError", "deliver", "send_mail"]

log = structlog.get_logger("kami.mail")


class MailNotConfiguredError(RuntimeError):
    """KAMI_MAIL_HOST is empty outside development: the message cannot go anywhere."""


async def send_mail(context: JobContext, to: str, subject: str, body: str) -> str:
    """Send one plain-text message; the address it went to."""
    await deliver(context.settings, to, subject, body)
    return to


async def deliver(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one plain-text message through ``KAMI_MAIL_*``'s server, now. Without a server, development
    logs the message instead (its links included: the development outbox); anywhere else that is an
    error, which the job's retries and dead letter report. Nothing else ever logs a message's body."""
    mail = settings.mail
    if not mail.host:
        if settings.app.environment == "development":
            log.info(
                "mail not sent (KAMI_MAIL_HOST is empty); its text follows", to=to, subject=subject, body=body
            )
            return
        raise MailNotConfiguredError("KAMI_MAIL_HOST is empty: set the SMTP server to send mail")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mail.sender, to, subject
    message.set_content(body)
    await anyio.to_thread.run_sync(_deliver, mail, message)
    log.info("mail sent", to=to, subject=subject)


def _deliver(mail: MailSettings, message: EmailMessage) -> None:
    tls = ssl.create_default_context()
    client: smtplib.SMTP
    if mail.security == "tls":
        client = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout, context=tls)
    else:
        client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
    with client:
        if mail.security == "starttls":
            client.starttls(context=tls)
        if mail.username:
            client.login(mail.username, mail.password)
        client.send_message(message)


MAIL_JOB = JobSpec(send_mail, retries=5, retry_delay=5.0, timeout=60)
