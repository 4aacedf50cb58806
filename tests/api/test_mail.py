"""Mail to operators through a real SMTP server on loopback: immediate mails (retried
when the relay is busy, one per alert), the daily digest, quiet hours, the daily report,
and the preferences' route."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from autogrocery.api.notice_watch import NoticeWatch
from autogrocery.api.state import STATE
from autogrocery.domain.records import RobotSeen
from tests.api.conftest import Api, ApiFactory
from tests.api.test_fresh_food import deliver
from tests.smtp_server import Inbox, parts, smtp_server
from tests.waiting import eventually

PREFERENCES = "/api/ops/notifications/preferences"
MANAGER = "manager@example.com"
NIGHT = "night@example.com"


async def mailing(make_api: ApiFactory, port: int, *more: str, **kw: Any) -> Api:
    return await make_api(
        "notify.smtp_host=127.0.0.1",
        f"notify.smtp_port={port}",
        "notify.smtp_tls=none",
        "notify.smtp_from=store@example.com",
        *more,
        **kw,
    )


async def prefer(api: Api, who: dict[str, str], **prefs: Any) -> dict[str, Any]:
    status, body, _ = await api.call("PUT", PREFERENCES, who, json=prefs)
    assert status == 200, body
    return dict(body)


async def low(api: Api, operator: dict[str, str], sku: str, min_level: int = 100_000) -> None:
    path = f"/api/ops/products/{sku}"
    status, body, _ = await api.call("PATCH", path, operator, json={"min_level": min_level})
    assert status == 200, body


async def mails(inbox: Inbox, to: str, count: int) -> list[Any]:
    """The first `count` mails to `to`, once they have come."""
    return (await eventually(lambda: len(inbox.to(to)) >= count and inbox.to(to), within=20))[
        :count
    ]


async def test_an_alert_is_mailed_once_even_when_the_relay_is_busy(make_api: ApiFactory) -> None:
    async with smtp_server(refuse=2) as (inbox, port):
        api = await mailing(make_api, port)
        operator = await api.operator()
        prefs = await prefer(api, operator, email=MANAGER, events=["low_stock"])
        assert prefs["mail_configured"]
        assert (prefs["mode"], prefs["quiet_hours"], prefs["daily_report"]) == (
            "immediate",
            None,
            False,
        )
        await low(api, operator, "DAI-001")
        for _ in range(2):  # stock moves while the alert stands: still one alert
            adjust = {"delta": -1, "reason": "WASTE"}
            path = "/api/ops/stock/DAI-001/adjust"
            assert (await api.call("POST", path, operator, json=adjust))[0] == 200
        await low(api, operator, "DAI-001", 0)  # cleared: not mailed
        # A name with a line break does not become a header of the mail.
        rename = {"name": "Rye\r\nBcc: evil@example.com"}
        assert (await api.call("PATCH", "/api/ops/products/BRD-001", operator, json=rename))[
            0
        ] == 200
        await low(api, operator, "BRD-001")
        got = await mails(inbox, MANAGER, 2)  # each retried on its own: in either order
        first, second = sorted(got, key=lambda mail: "BRD-001" in mail["Subject"])
        assert "Low stock: Semi-skimmed milk (DAI-001)" in first["Subject"]
        assert "Low stock: Rye Bcc: evil@example.com (BRD-001)" in second["Subject"]
        assert second["Bcc"] is None
        assert first["From"] == "store@example.com"
        text, page = parts(first)
        assert "DAI-001" in text
        assert "<html>" in page
        assert "DAI-001" in page
        assert len(inbox.to(MANAGER)) == 2  # one each: none for the moves or the clearing
        assert inbox.refused == 2

        async def counted() -> bytes:  # the store counts a mail just after the relay took it
            _, metrics, _ = await api.call("GET", "/metrics")
            return bytes(metrics) if b'mails_total{outcome="sent"} 2.0' in metrics else b""

        metrics = await eventually(counted, within=10)
        assert b'autogrocery_mails_total{outcome="retried"} 2.0' in metrics


async def test_digest_waits_for_the_daily_hour_and_quiet_hours_hold_mail(
    make_api: ApiFactory,
) -> None:
    moment = [datetime(2026, 12, 7, 6, 0, tzinfo=UTC).timestamp()]
    async with smtp_server() as (inbox, port):
        api = await mailing(make_api, port, clock=lambda: moment[0])
        operator = await api.operator()
        status, _, _ = await api.call(
            "POST",
            "/api/ops/accounts",
            operator,
            json={"username": "nightshift", "password": "night-password-1", "role": "operator"},
        )
        assert status == 201
        night = await api.bearer("nightshift", "night-password-1")
        wanted = ["low_stock", "large_movement"]
        await prefer(api, operator, email=MANAGER, events=wanted, mode="digest")
        quiet = {"start": "22:00", "end": "07:30"}
        await prefer(api, night, email=NIGHT, events=wanted, quiet_hours=quiet)
        # At 06:00: a low-stock alert and a large count. Neither the digest (07:00)
        # nor the night shift (quiet until 07:30) is mailed; a third operator with no
        # quiet hours shows the planner has looked past both notices.
        await low(api, operator, "DAI-001")
        count = {"delta": 150, "reason": "COUNT", "note": "found a pallet"}
        path = "/api/ops/stock/DAI-002/adjust"
        assert (await api.call("POST", path, operator, json=count))[0] == 200
        await api.call(
            "POST",
            "/api/ops/accounts",
            operator,
            json={"username": "dayshift", "password": "day-password-1", "role": "operator"},
        )
        day = await api.bearer("dayshift", "day-password-1")
        await prefer(api, day, email="day@example.com", events=["low_stock"])
        await low(api, operator, "BRD-001")
        await mails(inbox, "day@example.com", 1)
        assert inbox.to(MANAGER) == []
        assert inbox.to(NIGHT) == []

        moment[0] = datetime(2026, 12, 7, 7, 0, tzinfo=UTC).timestamp()
        (digest,) = await mails(inbox, MANAGER, 1)
        assert "Daily digest: 3 notices" in digest["Subject"]
        text, _ = parts(digest)
        assert "Large movement: COUNT +150 of Whole milk (DAI-002)" in text
        assert "(BRD-001)" in text
        assert inbox.to(NIGHT) == []  # still quiet at 07:00

        moment[0] = datetime(2026, 12, 7, 7, 31, tzinfo=UTC).timestamp()
        held = await mails(inbox, NIGHT, 3)
        assert ["DAI-001" in held[0]["Subject"], "DAI-002" in held[1]["Subject"]] == [True, True]


async def test_the_daily_report_and_bad_preferences(make_api: ApiFactory) -> None:
    moment = [datetime(2026, 12, 7, 8, 0, tzinfo=UTC).timestamp()]
    async with smtp_server() as (inbox, port):
        api = await mailing(make_api, port, clock=lambda: moment[0])
        operator = await api.operator()
        for bad in (
            {"email": "not-an-address", "events": []},
            {"email": MANAGER, "events": ["everything"]},
            {"email": MANAGER, "events": [], "mode": "weekly"},
            {"email": MANAGER, "events": [], "quiet_hours": {"start": "25:00", "end": "07:00"}},
            {"email": MANAGER, "events": [], "colour": "blue"},
        ):
            status, problem, _ = await api.call("PUT", PREFERENCES, operator, json=bad)
            assert status == 400, (bad, problem)
        _, before, _ = await api.call("GET", PREFERENCES, operator)
        assert (before["email"], before["events"]) == (None, [])  # nothing was kept
        await prefer(api, operator, email=MANAGER, events=[], daily_report=True)
        # Asked for at 08:00, past notify.daily_at (07:00): the first is the next morning's.
        moment[0] = datetime(2026, 12, 8, 7, 0, tzinfo=UTC).timestamp()
        (report,) = await mails(inbox, MANAGER, 1)
        assert "Daily report for 2026-12-08" in report["Subject"]
        text, page = parts(report)
        for section in ("Sales on", "Waste on", "To reorder:", "At risk:"):
            assert section in text
            assert section in page
        device = await api.device()
        assert (await api.call("GET", PREFERENCES, device))[0] == 403


async def test_a_robot_going_offline_and_a_lost_head_office_are_mailed_once(
    make_api: ApiFactory,
) -> None:
    """The watch's sources stand in (the robots' and the hub link's own detection is
    tested with real processes in tests/tui/test_robots_offline.py and tests/chain);
    the notices, the store's tables and the mail are real."""
    async with smtp_server() as (inbox, port):
        api = await mailing(make_api, port)
        operator = await api.operator()
        events = ["robot_offline", "head_office_unreachable"]
        await prefer(api, operator, email=MANAGER, events=events)
        robot = RobotSeen("bread-1", "bread", "host-a", "idle", 0.0, 0, 0)
        fleet = [robot]
        link = {"chain_hub_connected": 1.0}

        async def robots() -> list[RobotSeen]:
            return list(fleet)

        tables = api.client.server.app[STATE].tables
        watch = NoticeWatch(tables, robots, lambda: dict(link), head_office_after=0.0)
        await watch.look()  # all well: nothing
        fleet[0] = replace(robot, state="offline")
        link["chain_hub_connected"] = 0.0
        await watch.look()
        await watch.look()  # still down: not told again
        got = await mails(inbox, MANAGER, 2)
        subjects = sorted(mail["Subject"] for mail in got)
        assert "Head office unreachable" in subjects[0]
        assert "Robot offline: bread-1 (aisle bread)" in subjects[1]
        link["chain_hub_connected"] = 1.0
        await watch.look()
        link["chain_hub_connected"] = 0.0
        await watch.look()  # down again: told again
        await mails(inbox, MANAGER, 3)
        assert len(inbox.to(MANAGER)) == 3


async def test_a_digest_due_in_quiet_hours_goes_when_they_end(make_api: ApiFactory) -> None:
    moment = [datetime(2026, 12, 7, 21, 0, tzinfo=UTC).timestamp()]
    async with smtp_server() as (inbox, port):
        api = await mailing(make_api, port, "notify.daily_at=23:00", clock=lambda: moment[0])
        operator = await api.operator()
        quiet = {"start": "22:00", "end": "08:00"}  # over midnight, and over daily_at
        await prefer(
            api, operator, email=MANAGER, events=["low_stock"], mode="digest", quiet_hours=quiet
        )
        await low(api, operator, "DAI-001")
        moment[0] = datetime(2026, 12, 8, 8, 1, tzinfo=UTC).timestamp()
        (digest,) = await mails(inbox, MANAGER, 1)
        assert "Daily digest: 1 notices" in digest["Subject"]


async def test_a_relay_refusing_a_mailbox_for_good_is_not_asked_again(
    make_api: ApiFactory,
) -> None:
    async with smtp_server(refuse=1, reply="550 5.1.1 no such mailbox") as (inbox, port):
        api = await mailing(make_api, port)
        operator = await api.operator()
        status, _, _ = await api.call(
            "POST",
            "/api/ops/accounts",
            operator,
            json={"username": "leaver", "password": "leaver-password-1", "role": "operator"},
        )
        assert status == 201
        leaver = await api.bearer("leaver", "leaver-password-1")
        await prefer(api, leaver, email="leaver@example.com", events=["low_stock"])
        assert (await api.call("POST", "/api/ops/accounts/leaver/disable", operator))[0] == 200
        await prefer(api, operator, email=MANAGER, events=["low_stock"])
        await low(api, operator, "DAI-001")

        async def failed() -> bytes:
            _, metrics, _ = await api.call("GET", "/metrics")
            return bytes(metrics) if b'mails_total{outcome="failed"} 1.0' in metrics else b""

        metrics = await eventually(failed, within=15)
        assert b'autogrocery_mails_total{outcome="retried"} 0.0' in metrics
        assert inbox.refused == 1  # the 550 was final: not tried again
        assert inbox.to("leaver@example.com") == []  # a disabled operator is told nothing


async def test_a_lot_expiring_and_then_written_off_is_mailed(make_api: ApiFactory) -> None:
    """A dated delivery due tomorrow raises an expiring alert; two days on, the expiry
    sweep writes it off: each is a mail, the second with what it cost."""
    moment = [datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()]
    async with smtp_server() as (inbox, port):
        api = await mailing(
            make_api, port, "stock.expiry_sweep_interval=0.2", clock=lambda: moment[0]
        )
        operator = await api.operator()
        await prefer(api, operator, email=MANAGER, events=["expiring", "expired"])
        tomorrow = str(api.system.today() + timedelta(days=1))
        line = {"sku": "DAI-001", "quantity": 12, "unit_cost": "0.50", "expiry_date": tomorrow}
        await deliver(api, [line])
        (expiring,) = await mails(inbox, MANAGER, 1)
        assert "Expiring: 12 of Semi-skimmed milk (DAI-001)" in expiring["Subject"]
        assert f"best before {tomorrow}" in expiring["Subject"]
        moment[0] += 2 * 86_400.0
        expired = (await mails(inbox, MANAGER, 2))[1]
        assert "Expired stock written off: 12 units worth 6.00 at cost" in expired["Subject"]
        text, _ = parts(expired)
        assert "Semi-skimmed milk (DAI-001)" in text
        assert ": 12 (6.00)" in text
