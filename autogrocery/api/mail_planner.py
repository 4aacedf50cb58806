"""What each operator is mailed, and when (their preferences: contract/notifications.py).

Each look, for each operator with an email: in `immediate` mode, the notices after
their `after_seq` that they want go at once, a mail each (more than TOGETHER at once go
as one mail); in quiet hours nothing goes, and the notices wait for the hours' end. In
`digest` mode the notices wait for `notify.daily_at` (store time), then go as one mail.
The daily report goes at the same hour. A mail is queued (mail_outbox) in the
transaction that moves `after_seq` on or marks the day, so a store killed at any moment
neither loses nor repeats one; the mailer sends it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, tzinfo
from functools import partial

from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth_store import Sql
from autogrocery.api.mail_compose import Section, kind_of, one, report, several
from autogrocery.api.mail_tables import (
    SELECT_MAILED,
    SELECT_NOTICES,
    Mail,
    Notice,
    Operator,
    mark,
    notice,
    operator,
    queue_mail,
)
from autogrocery.domain.models import now

PAGE = 1000  # notices read at once
TOGETHER = 5  # more notices than this at once (a storm, quiet hours' end) go as one mail
Reporter = Callable[[date], Awaitable[Sequence[Section]]]


def in_quiet(quiet: tuple[str, str] | None, clock: str) -> bool:
    """Whether `clock` (HH:MM) is in the quiet hours [start, end), which may span
    midnight."""
    if quiet is None:
        return False
    start, end = quiet
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end


class MailPlanner:
    def __init__(
        self,
        tables: AuthTables,
        daily_at: str,
        zone: tzinfo,
        reporter: Reporter,
        mailing: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tables = tables
        self._daily_at = daily_at
        self._zone = zone
        self._reporter = reporter
        self._mailing = mailing  # False: no SMTP relay; preferences move on, nothing queued
        self._clock = clock

    async def plan(self) -> None:
        """One look at every operator who has an email."""
        rows = await self._tables.conn.execute_fetchall(SELECT_MAILED)
        for who in map(operator, rows):
            await self._plan(who)

    async def _plan(self, who: Operator) -> None:
        local = datetime.fromtimestamp(self._clock(), self._zone)
        clock, today = local.strftime("%H:%M"), local.date().isoformat()
        if in_quiet(who.quiet, clock):
            return  # everything waits, where it is
        daily = clock >= self._daily_at
        if who.mode == "immediate":
            await self._immediate(who)
        elif daily and who.digest_on != today:
            await self._digest(who, today)
        if who.daily_report and daily and who.report_on != today:
            sections = await self._reporter(local.date())
            mail = report(who.email, today, sections)
            await self._write(who, [(f"report:{today}", mail)], partial(mark, report_on=today))

    async def _immediate(self, who: Operator) -> None:
        notices = await self._notices(who.after_seq, PAGE)
        if not notices:
            return
        wanted = [n for n in notices if kind_of(n) in who.kinds]
        mails: list[tuple[str, Mail]] = [(f"n:{n.seq}", one(n, who.email)) for n in wanted]
        if len(wanted) > TOGETHER:
            key = f"n:{wanted[0].seq}-{wanted[-1].seq}"
            mails = [(key, several(wanted, who.email, "Notices"))]
        await self._write(who, mails, partial(mark, after_seq=notices[-1].seq))

    async def _digest(self, who: Operator, today: str) -> None:
        wanted: list[Notice] = []
        after = who.after_seq
        while page := await self._notices(after, PAGE):
            wanted += [n for n in page if kind_of(n) in who.kinds]
            after = page[-1].seq
        digest = [(f"digest:{today}", several(wanted, who.email, "Daily digest"))]
        done = partial(mark, after_seq=after, digest_on=today)
        await self._write(who, digest if wanted else [], done)

    async def _notices(self, after: int, limit: int) -> list[Notice]:
        rows = await self._tables.conn.execute_fetchall(SELECT_NOTICES, (after, limit))
        return [notice(row) for row in rows]

    async def _write(
        self, who: Operator, mails: Sequence[tuple[str, Mail]], done: Callable[..., None]
    ) -> None:
        """Queue `mails` (by key; if there is a relay) and mark what they cover, in one
        transaction."""

        def write(conn: Sql) -> None:
            for key, mail in mails if self._mailing else ():
                queue_mail(conn, who.user_id, key, mail, now())
            done(conn, who.user_id)

        await self._tables.transact(write)
