"""The head office's dashboard against a real head office (`CentralService`: hub
nats-server, applier, HTTP API) with real store leaf nodes publishing their events
(tests/central/leaf.py): what an operator sees of the stores, a SKU's stock across
them, a transfer requested from the form as it moves on, and sales and waste."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections.abc import AsyncIterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TabbedContent, TextArea

from autogrocery.chain.protocol import (
    Facts,
    Level,
    Movement,
    OrderEnd,
    Receipt,
    ReceiptLine,
    ShipLine,
    Shipment,
)
from autogrocery.client import Credentials, decode
from autogrocery.contract.head_office import StockPage, StoreList, StoreStatus, TransferList
from autogrocery.tui.chain.actions import CatalogScreen, RequestTransferScreen
from autogrocery.tui.chain.app import ChainApp
from autogrocery.tui.chain.client import ChainClient
from autogrocery.tui.chain.transfer import TransferScreen
from autogrocery.tui.feed import Backoff
from autogrocery.tui.widgets.table import LiveTable
from tests.central.conftest import (
    ADMIN_PASSWORD,
    Central,
    CentralFactory,
    make_central,  # noqa: F401 (a fixture)
)
from tests.central.leaf import Leaf
from tests.tui.conftest import shown, until
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(90)

BREAD, MILK = "BRD-001", "DAI-002"
SIZE = (160, 40)


@pytest.fixture
def read_model() -> str:
    """The dashboard's head office on the SQLite read model: the dashboard reads the API,
    whichever backend serves it (tests/central runs the API on both)."""
    return ""


@pytest.fixture
async def hq(make_central: CentralFactory) -> Central:  # noqa: F811
    """A head office with the default settings."""
    return await make_central()


def chain_app(client: ChainClient | None, **options: object) -> ChainApp:
    """The app as tests run it: quick polls and a quick reconnect."""
    settings: dict[str, object] = {
        "redraw_hz": 10.0,
        "poll_interval": 0.2,
        "backoff": Backoff(first=0.05, most=0.5),
    }
    return ChainApp(client, **(settings | options))  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def session(central: Central) -> AsyncIterator[ChainClient]:
    async with ChainClient(central.url, Credentials("admin", ADMIN_PASSWORD)) as client:
        yield client


@contextlib.asynccontextmanager
async def heartbeats(*leaves: tuple[Leaf, int]) -> AsyncIterator[None]:
    """Each leaf publishes a heartbeat (its units on hand) every 0.3 s, as a relay does."""

    async def beat(leaf: Leaf, units: int) -> None:
        while True:
            await leaf.publish(Facts(on_hand_units=units), kind="heartbeat")
            await asyncio.sleep(0.3)

    tasks = [asyncio.create_task(beat(leaf, units)) for leaf, units in leaves]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def status_line(app: ChainApp) -> str:
    return str(app.main.query_one("#status", Static).render())


def line(app: ChainApp, widget: str) -> str:
    return str(app.main.query_one(f"#{widget}", Static).render())


def table(app: ChainApp, name: str) -> LiveTable:
    return app.main.query_one(f"#{name}-table", LiveTable)


async def applied(central: Central, store_id: str, seq: int) -> None:
    async def check() -> bool:
        return bool((await central.stats(store_id))["last_seq"] >= seq)

    await eventually(check, within=15, every=0.05)


async def type_into(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


async def test_the_stores_panel_shows_each_store_up_down_or_never_heard_from(
    make_central: CentralFactory,  # noqa: F811
) -> None:
    central = await make_central("central.store_timeout=1.5")
    north = await central.leaf("north")
    south = await central.leaf("south")
    central.enroll("east")  # enrolled, never heard from
    await north.publish(Facts(levels=[Level(BREAD, 20, 2)]))
    await applied(central, "north", 1)
    status, made = await central.call(
        "POST", "/api/chain/catalog", json={"products": [{"sku": BREAD, "price": "2.40"}]}
    )
    assert status == 201, made
    await north.publish(Facts(catalog_version=made["version"]))
    async with session(central) as client, heartbeats((north, 18_240)):
        app = chain_app(client)
        async with app.run_test(size=SIZE) as pilot:
            async with heartbeats((south, 9_815)):
                await until(pilot, lambda: app.link.connected and len(app.model.stores) == 3)
                rows = table(app, "stores")
                await until(pilot, lambda: (shown(rows, "south") or [""] * 2)[1] == "up")
                assert rows.row_keys == ["east", "north", "south"]

                def north() -> tuple[str, ...] | None:
                    row = shown(rows, "north")
                    return None if row is None else (row[1], row[3], row[4], row[5])

                # Caught up: lag 0. A heartbeat the store sent an instant before the
                # head office applied it is a lag of 1 for that instant, rightly shown.
                await until(pilot, lambda: north() == ("up", "0", "v1", "18,240"))
                north_row = shown(rows, "north")
                assert north_row is not None
                assert north_row[2].endswith("s ago")
                assert shown(rows, "east") == ["east", "never", "never", "0", "v0", "-"]
                south_row = shown(rows, "south")
                assert south_row is not None
                assert (south_row[4], south_row[5]) == ("v0", "9,815")  # behind: v1 is out
                await until(pilot, lambda: "2/3 stores up" in status_line(app))
                assert "0 transfers in flight" in status_line(app)
                assert "catalog v1" in status_line(app)
                assert "never heard from: east" in line(app, "stores-summary")
            await south.down()  # the store is gone: no heartbeat, no leaf link
            await until(pilot, lambda: (shown(rows, "south") or [""] * 2)[1] == "✖ down")
            await until(pilot, lambda: "1/3 stores up · 1 down" in status_line(app))
            assert "✖ 1 DOWN: south" in line(app, "stores-summary")
            tabs = app.main.query_one("#tabs", TabbedContent)
            assert str(tabs.get_tab("stores").label) == "1 Stores ✖1"
            assert (shown(rows, "north") or [""] * 2)[1] == "up"


async def test_a_skus_stock_across_the_stores_and_sales_and_waste_per_store(
    hq: Central,
) -> None:
    central = hq
    north = await central.leaf("north")
    south = await central.leaf("south")
    now = time.time()
    await north.publish(Facts(levels=[Level(BREAD, 20, 2), Level(MILK, 5, 0)]))
    await south.publish(Facts(levels=[Level(BREAD, 7, 1)]))
    await north.publish(
        Facts(
            orders=[
                OrderEnd("ord-1", "CUSTOMER", "COMPLETED", 1250, 2, now),
                OrderEnd("ord-2", "CUSTOMER", "COMPLETED", 390, 1, now),
                OrderEnd("ord-3", "CUSTOMER", "CANCELLED", 999, 1, now),  # not a sale
            ],
            movements=[Movement(MILK, "WASTE", -2, None, "lot-1", 150, now)],
        )
    )
    await south.publish(Facts(orders=[OrderEnd("ord-9", "CUSTOMER", "COMPLETED", 500, 1, now)]))
    await applied(central, "north", 2)
    await applied(central, "south", 2)
    async with session(central) as client:
        app = chain_app(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.link.connected and app.model.stores)
            await pilot.press("s")  # the SKU box on the stock panel
            await until(pilot, lambda: app.active == "stock")
            assert app.focused is app.main.query_one("#stock-sku", Input)
            await type_into(pilot, BREAD.lower())
            by_store = table(app, "sku-stores")
            await until(pilot, lambda: by_store.row_count == 2)
            assert (shown(by_store, "north") or [])[1:4] == ["20", "2", "18"]
            assert (shown(by_store, "south") or [])[1:4] == ["7", "1", "6"]
            assert "BRD-001: 27 on hand in 2 stores" in line(app, "stock-summary")
            assert app.focused is by_store

            # a SKU no store reported: said in the panel; the head office is still live
            await pilot.press("s")
            app.main.query_one("#stock-sku", Input).value = ""
            await type_into(pilot, "NOPE-1")
            await until(
                pilot, lambda: "no store reported SKU 'NOPE-1'" in line(app, "stock-summary")
            )
            assert app.link.connected
            assert "● live" in status_line(app)

            # no SKU: every SKU, and Enter on one shows it by store
            await pilot.press("s")
            app.main.query_one("#stock-sku", Input).value = ""
            await pilot.press("enter")
            every = table(app, "stock-list")
            await until(pilot, lambda: every.row_keys == [BREAD, MILK])
            assert shown(every, BREAD) == [BREAD, "27", "2", "north 20 · south 7"]
            assert shown(every, MILK) == [MILK, "5", "1", "north 5"]
            assert app.focused is every
            await pilot.press("down", "enter")
            await until(
                pilot, lambda: "DAI-002: 5 on hand in 1 store" in line(app, "stock-summary")
            )

            # sales: the last 7 days by default, per store and for the chain
            await pilot.press("4")
            sales = table(app, "sales")
            await until(pilot, lambda: sales.row_count == 3)
            assert shown(sales, "north") == ["north", "2", "16.40", "3.00"]
            assert shown(sales, "south") == ["south", "1", "5.00", "0.00"]
            assert shown(sales, "\x00total") == ["all stores", "3", "21.40", "3.00"]
            summary = line(app, "sales-summary")
            assert "(UTC, both days included)" in summary
            report = app.model.sales
            assert report is not None
            days = datetime.date.fromisoformat(report.to) - datetime.date.fromisoformat(
                report.from_
            )
            assert days.days == 6  # 7 days, today included

            # days that are not: said in the panel, nothing asked
            await pilot.press("d")
            await type_into(pilot, "2026-13-01")
            await until(pilot, lambda: "is not a day like 2026-12-01" in line(app, "sales-summary"))
            # days long ago: every store, nothing sold
            app.main.query_one("#sales-from", Input).value = "2020-01-01"
            app.main.query_one("#sales-to", Input).value = "2020-01-31"
            app.main.query_one("#sales-to", Input).focus()
            await pilot.press("enter")
            await until(pilot, lambda: "2020-01-01 to 2020-01-31" in line(app, "sales-summary"))
            await until(pilot, lambda: (shown(sales, "north") or [""] * 2)[1] == "0")
            assert shown(sales, "\x00total") == ["all stores", "0", "0.00", "0.00"]


async def test_a_transfer_requested_from_the_form_moves_on_to_received(
    hq: Central,
) -> None:
    central = hq
    north = await central.leaf("north")
    south = await central.leaf("south")
    await north.publish(Facts(levels=[Level(BREAD, 20, 0)]))
    await south.publish(Facts(levels=[Level(BREAD, 1, 0)]))
    await applied(central, "south", 1)
    async with session(central) as client:
        app = chain_app(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.link.connected and len(app.model.stores) == 2)
            rows = table(app, "stores")
            await until(pilot, lambda: rows.row_keys == ["north", "south"])
            await pilot.press("t")  # on the Stores panel: from the highlighted store
            await until(pilot, lambda: isinstance(app.screen, RequestTransferScreen))
            form = app.screen
            assert isinstance(form, RequestTransferScreen)
            assert form.query_one("#from-store", Select).value == "north"

            # checked before anything is sent
            form.query_one("#to-store", Select).value = "north"
            form.query_one("#transfer-items", TextArea).text = "BRD-001 3\nDAI-002 lots"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "from and to are the same store" in form.error)
            assert "line 2: quantity must be a whole number, got 'lots'" in form.error
            # the head office's refusal, in plain words
            form.query_one("#to-store", Select).value = "south"
            form.query_one("#transfer-items", TextArea).text = "NOPE-1 3"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "NOPE-1" in form.error)
            assert client.sent["POST /api/chain/transfers"] == 1

            form.query_one("#transfer-items", TextArea).text = "brd-001 2\nBRD-001 1"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "REQUESTED" in form.done)
            assert "3 BRD-001 from north to south" in form.done
            assert form.query_one("#transfer-items", TextArea).text == ""  # not sent twice
            transfer_id = form.done.split("transfer ", 1)[1].split()[0]
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, RequestTransferScreen))

            await pilot.press("3")
            transfers = table(app, "transfers")
            await until(
                pilot, lambda: (shown(transfers, transfer_id) or [""] * 4)[3] == "REQUESTED"
            )
            assert shown(transfers, transfer_id)[1:3] == ["north", "south"]  # type: ignore[index]
            await until(pilot, lambda: "1 transfer in flight" in status_line(app))

            # north's robots pick it and ship it; the window follows it
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TransferScreen))
            window = app.screen
            assert isinstance(window, TransferScreen)
            await until(pilot, lambda: window.view is not None)
            lines = window.query_one("#transfer-lines", LiveTable)
            assert shown(lines, BREAD) == [BREAD, "3", "-", "-"]
            await north.publish(
                Facts(
                    levels=[Level(BREAD, 17, 0)],
                    shipments=[Shipment(transfer_id, "south", [ShipLine(BREAD, 3, 80)])],
                )
            )
            await until(pilot, lambda: window.view is not None and window.view.status == "SHIPPED")
            await until(pilot, lambda: shown(lines, BREAD) == [BREAD, "3", "3", "-"])
            # south shelves 2 of the 3: received, with a discrepancy
            await south.publish(
                Facts(
                    levels=[Level(BREAD, 3, 0)],
                    receipts=[Receipt(transfer_id, "north", [ReceiptLine(BREAD, 2)])],
                )
            )
            await until(pilot, lambda: window.view is not None and window.view.status == "RECEIVED")
            await until(pilot, lambda: shown(lines, BREAD) == [BREAD, "3", "3", "2"])
            discrepancy = str(window.query_one("#transfer-discrepancy", Static).render())
            assert "BRD-001 shipped 3, received 2" in discrepancy
            await pilot.press("escape")
            await until(pilot, lambda: (shown(transfers, transfer_id) or [""] * 4)[3] == "RECEIVED")
            assert "received ≠ shipped: BRD-001" in shown(transfers, transfer_id)[-1]  # type: ignore[index]
            await until(pilot, lambda: "0 transfers in flight" in status_line(app))

            # the status filter asks the head office for that status only
            await pilot.press("f")  # REQUESTED
            await until(pilot, lambda: app.model.transfer_status == "REQUESTED")
            await until(pilot, lambda: transfers.row_count == 0 and app.model.polls > 0)
            await pilot.press("f", "f")  # RECEIVED
            await until(pilot, lambda: transfers.row_keys == [transfer_id])


async def test_prices_published_from_the_form_reach_the_stores_as_a_catalog_version(
    hq: Central,
) -> None:
    central = hq
    north = await central.leaf("north")
    await north.publish(Facts(levels=[Level(BREAD, 20, 0)]))
    await applied(central, "north", 1)
    async with session(central) as client:
        app = chain_app(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.link.connected and app.model.stores)
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, CatalogScreen))
            form = app.screen
            assert isinstance(form, CatalogScreen)
            form.query_one("#prices", TextArea).text = "BRD-001 0\nBRD-001 2.45 3"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "line 1: price must be above 0" in form.error)
            assert "line 2: expected SKU PRICE" in form.error
            form.query_one("#prices", TextArea).text = "brd-001 2.45"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "catalog version 1: BRD-001 2.45" in form.done)
            subject = "chain.down.north.catalog.1"

            async def sent_down() -> bool:
                return subject in await north.received()

            # the head office sends it to the store's leaf
            await eventually(sent_down, within=15, every=0.05)
            await north.publish(Facts(catalog_version=1))  # north applied it
            await pilot.press("escape")
            await until(pilot, lambda: "catalog v1" in status_line(app))


async def test_a_head_office_that_does_not_answer_is_a_banner_that_retries() -> None:
    async with ChainClient("http://127.0.0.1:9", Credentials("admin", "x")) as client:
        app = chain_app(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.link.attempt >= 2)
            banner = str(app.main.query_one("#banner", Static).render())
            assert "DISCONNECTED from http://127.0.0.1:9" in banner
            assert "● disconnected" in status_line(app)


class Odd(ChainClient):
    """A head office whose stores are not what the API documents (decoded as the client
    decodes every answer)."""

    async def stores(self) -> list[StoreStatus]:
        return decode(StoreList, b'{"stores": [{"not": "a store"}]}', "/api/chain/stores").stores

    async def transfers(self, status: str | None = None, limit: int = 100) -> TransferList:
        return TransferList([], None)


async def test_an_answer_not_as_documented_is_a_banner_not_a_traceback() -> None:
    async with Odd("http://127.0.0.1:9", Credentials("admin", "x")) as client:
        app = chain_app(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.link.attempt >= 2)
            banner = str(app.main.query_one("#banner", Static).render())
            assert (
                "an answer the dashboard does not understand (/api/chain/stores: "
                "Object missing required field `store_id` - at `$.stores[0]`)"
            ) in banner
            assert app.is_running


class OddStock(Odd):
    """A head office whose stores are fine and whose stock page is not as documented."""

    async def stores(self) -> list[StoreStatus]:
        return []

    async def stock_page(self, cursor: str | None = None, limit: int = 100) -> StockPage:
        body = b'{"items": [{"not": "a sku"}], "next_cursor": null}'
        return decode(StockPage, body, "/api/chain/stock")


async def test_a_panels_answer_not_as_documented_is_the_banners_not_the_panels() -> None:
    """Not the panel's own error (a SKU no store reported): something else answers at
    that address, so the banner says so and the feed backs off."""
    async with OddStock("http://127.0.0.1:9", Credentials("admin", "x")) as client:
        app = chain_app(client)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("2")  # the stock panel: its page is fetched each poll
            await until(pilot, lambda: app.link.attempt >= 2)
            banner = str(app.main.query_one("#banner", Static).render())
            assert "does not understand (/api/chain/stock: Object missing required field" in banner
            assert "stock" not in app.model.errors
