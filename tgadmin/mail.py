"""Outgoing e-mail (login links): SMTP when SMTP_HOST is set, otherwise the log (development)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from tgadmin.config import Settings
from tgadmin.errors import ServiceUnavailable
from tgadmin.logs import delivered_via_log

log = logging.getLogger(__name__)


async def send_login_link(settings: Settings, to: str, link: str) -> None:
    if not settings.smtp_host:
        # Development default: no SMTP server, so the operator reads the link in the terminal.
        # The log is the mail here, so the link is printed whole (other lines keep tokens masked).
        log.warning(
            "login link for %s (SMTP_HOST unset, printed instead of e-mailed): %s",
            to,
            link,
            extra=delivered_via_log(),
        )
        return
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = "Your tgadmin login link"
    message.set_content(
        f"Open this link to log in to tgadmin (it works once, for 15 minutes):\n\n{link}\n\n"
        "If you did not ask for it, ignore this e-mail."
    )
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            # None: STARTTLS when the server offers it; False: never.
            start_tls=None if settings.smtp_starttls and settings.smtp_port != 465 else False,
            use_tls=settings.smtp_port == 465,
            timeout=10,
        )
    except (aiosmtplib.SMTPException, OSError) as error:
        raise ServiceUnavailable(f"smtp: could not send the login link: {error}") from None
