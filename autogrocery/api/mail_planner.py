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
from datetime import date, datetime, timedelta, tzinfo
from functools import partial

from aiohttp import web

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
        self._report: tuple[date, Sequence[Section]] | None = None  # a day's, made once

    async def plan(self) -> None:
        """One look at every operator who has an email."""
        rows = await self._tables.conn.execute_fetchall(SELECT_MAILED)
        for who in map(operator, rows):
            await self._plan(who)

    def due_day(self) -> date:
        """The day whose daily_at passed last: today's once it is past, else yesterday's.
        What was due in quiet hours (a digest at 23:00, quiet 22:00-08:00) goes after."""
        local = datetime.fromtimestamp(self._clock(), self._zone)
        return local.date() - timedelta(days=local.strftime("%H:%M") < self._daily_at)

    async def _plan(self, who: Operator) -> None:
        local = datetime.fromtimestamp(self._clock(), self._zone)
        if in_quiet(who.quiet, local.strftime("%H:%M")):
            return  # everything waits, where it is
        day = self.due_day()
        due = day.isoformat()
        if who.mode == "immediate":
            await self._immediate(who)
        elif (who.digest_on or "") < due:
            await self._digest(who, due)
        if who.daily_report and (who.report_on or "") < due:
            mail = report(who.email, due, await self._sections(day))
            await self._write(who, [(f"report:{due}", mail)], partial(mark, report_on=due))

    async def _sections(self, day: date) -> Sequence[Section]:
        """The day's report, made once for every operator who wants it."""
        if self._report is None or self._report[0] != day:
            self._report = (day, await self._reporter(day))
        return self._report[1]

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


PLANNER = web.AppKey("mail_planner", MailPlanner)
