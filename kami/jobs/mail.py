"""Mail, sent by a background job through SMTP (``KAMI_MAIL_*``): a request only queues it, a failed
send is retried with backoff and ends as a dead letter (``kami jobs dead``) if it keeps failing.

Python's own ``smtplib`` in a worker thread does the sending: one message at a time, a few a minute,
needs nothing more.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlencode

import anyio
import structlog
from litestar import Litestar

from kami.jobs.runner import JobContext, Jobs, JobSpec
from kami.settings import MailSettings

__all__ = ["MAIL_JOB", "MailNotConfiguredError", "Mailer", "send_mail"]

log = structlog.get_logger("kami.mail")


class MailNotConfiguredError(RuntimeError):
    """KAMI_MAIL_HOST is empty outside development: the message cannot go anywhere."""


async def send_mail(context: JobContext, to: str, subject: str, body: str) -> str:
    """Send one plain-text message; the address it went to."""
    settings = context.settings
    mail = settings.mail
    if not mail.host:
        if settings.app.environment == "development":
            log.info(
                "mail not sent (KAMI_MAIL_HOST is empty); its text follows", to=to, subject=subject, body=body
            )
            return to
        raise MailNotConfiguredError("KAMI_MAIL_HOST is empty: set the SMTP server to send mail")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mail.sender, to, subject
    message.set_content(body)
    await anyio.to_thread.run_sync(_deliver, mail, message)
    log.info("mail sent", to=to, subject=subject)
    return to


@dataclass(frozen=True)
class Mailer:
    """What a request uses to send mail: queue a message, make links into this API for it."""

    jobs: Jobs
    app: Litestar
    link_base: str  # KAMI_MAIL_LINK_BASE: the API's public address

    async def send(self, to: str, subject: str, body: str) -> None:
        await self.jobs.enqueue(send_mail, to=to, subject=subject, body=body)

    def link(self, route_name: str, **query: str) -> str:
        """The public URL of the route named ``route_name`` (its ``name=``), with ``query``."""
        return f"{self.link_base}{self.app.route_reverse(route_name)}?{urlencode(query)}"


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
