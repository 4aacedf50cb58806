"""Sending what the planner queued (mail_planner.py) through the SMTP relay of `[notify]`
with aiosmtplib. Planning and sending are tasks of their own: a relay that hangs holds
only the sending. A mail the relay refuses for good (a 5xx: no such mailbox) fails at
once; one it cannot take now (a 4xx, no connection, no answer within smtp_timeout) is
tried again, the waits as a webhook's (webhook_sending.backoff), for
`notify.webhook_retry_for` from its first try. Every attempt of one mail carries the
same Message-ID, so a mail sent again after a crash is known to mail clients."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from autogrocery.api.accounts import AuthTables
from autogrocery.api.mail_planner import MailPlanner
from autogrocery.api.mail_tables import (
    SELECT_DUE_MAIL,
    Queued,
    forget_old_mail,
    queued,
    record_send,
)
from autogrocery.api.webhook_sending import backoff
from autogrocery.config import NotifyConfig
from autogrocery.domain.models import now

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0  # s between looks for what to mail, and for what to send
FORGET_EVERY = 3600.0
BATCH = 20  # mails sent per look
MAX_ERROR = 300

Count = Callable[[str], None]  # counts a send's outcome: sent, retried, failed


def message(mail: Queued, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.mail.recipient
    msg["Subject"] = mail.mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{mail.mail_id}@{sender.rsplit('@', 1)[-1].strip('> ')}>"
    msg.set_content(mail.mail.text)
    msg.add_alternative(mail.mail.html, subtype="html")
    return msg


async def plan_forever(planner: MailPlanner) -> None:
    """What each operator is mailed, looked at each second; until cancelled."""
    while True:
        await planner.plan()
        await asyncio.sleep(LOOK_EVERY)


class Mailer:
    def __init__(
        self, tables: AuthTables, config: NotifyConfig, password: str | None, count: Count
    ) -> None:
        self._tables = tables
        self._config = config
        self._password = password
        self._count = count

    async def run(self) -> None:
        """Send what is due each second, and forget what is a week old; until cancelled."""
        forgotten_at = 0.0
        while True:
            await self.send_due()
            if now() - forgotten_at >= FORGET_EVERY:
                forgotten_at = now()
                await self._tables.transact(lambda c: forget_old_mail(c, now()))
            await asyncio.sleep(LOOK_EVERY)

    async def send_due(self) -> None:
        """Send the queued mails that are due, the longest waiting first."""
        rows = await self._tables.conn.execute_fetchall(SELECT_DUE_MAIL, (now(), BATCH))
        for mail in map(queued, rows):
            error, lasting = await self._send(mail)
            # Shielded: a mail the relay took is recorded even if the task is cancelled.
            await asyncio.shield(self._settle(mail, error, lasting))

    async def _send(self, mail: Queued) -> tuple[str | None, bool]:
        """(None, _) when the relay took it; else why not, and whether for good."""
        c = self._config
        try:
            await aiosmtplib.send(
                message(mail, c.smtp_from),
                hostname=c.smtp_host,
                port=c.smtp_port,
                username=c.smtp_user or None,
                password=self._password if c.smtp_user else None,
                use_tls=c.smtp_tls == "tls",
                start_tls=c.smtp_tls == "starttls",
                timeout=c.smtp_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            return _said(refused), bool(codes) and all(code >= 500 for code in codes)
        except aiosmtplib.SMTPResponseException as answer:
            return _said(answer), answer.code >= 500
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as failure:
            return _said(failure), False
        except Exception as broken:  # a mail that cannot be made: it never will be
            log.exception("mail %s cannot be sent", mail.mail_id)
            return _said(broken), True
        return None, False

    async def _settle(self, mail: Queued, error: str | None, lasting: bool) -> None:
        config = self._config
        at = now()
        first_at = mail.first_at if mail.first_at is not None else at
        next_at = at
        if error is None:
            status = outcome = "sent"
        elif lasting or at - first_at >= config.webhook_retry_for:
            status = outcome = "failed"
            log.warning(
                "mail %s to %s failed for good after %d tries (%s)",
                mail.mail_id,
                mail.mail.recipient,
                mail.attempts + 1,
                error,
            )
        else:
            status, outcome = "pending", "retried"
            next_at = at + backoff(mail.attempts + 1, config.webhook_max_backoff)
            log.info("mail %s not sent (%s); trying again", mail.mail_id, error)
        await self._tables.transact(
            lambda conn: record_send(conn, mail.mail_id, status, at, next_at, error)
        )
        self._count(outcome)


def _said(error: BaseException) -> str:
    return (str(error) or type(error).__name__)[:MAX_ERROR]
