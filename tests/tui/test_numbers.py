"""What an operator reads is what the store says. The feed is replayed from a recording
of a real store at 5 orders/s (tests/tui/data/feed.jsonl, made by
`python -m tools.record_feed`): `/api/events` frames, `metrics.tick` among them, and
the `GET /api/ops/analytics` answers the dashboard's poll reads, in arrival order. The
recording is older than some of the contract's fields: `shapes.frame` fills them in."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from textual.widgets import Select, Static

from autogrocery.tui import format as fmt
from autogrocery.tui.app import DashboardApp
from autogrocery.tui.model import Snapshot, StoreModel
from autogrocery.tui.widgets.chart import Chart
from autogrocery.tui.widgets.orders import OrdersPanel
from autogrocery.tui.widgets.table import LiveTable
from tests.tui import shapes
from tests.tui.conftest import shown, until

pytestmark = pytest.mark.timeout(60)

RECORDING = Path(__file__).parent / "data" / "feed.jsonl"


def recording() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in RECORDING.read_bytes().splitlines() if line]


def replay(model: StoreModel, lines: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Feed each recorded line to the model as the dashboard does (events from the
    WebSocket, analytics from the poll); a `sample()` per `metrics.tick`, as the
    once-a-second timer would. Yields each line after it is applied."""
    for seq, line in enumerate(lines, start=1):
        if "analytics" in line:
            model.set_analytics(shapes.analytics(line["analytics"]))
        else:
            model.apply(shapes.frame(line["frame"], seq))
            if line["frame"]["type"] == "metrics.tick":
                model.sample()
        yield line


def empty_model() -> StoreModel:
    model = StoreModel(clock=lambda: 0.0)
    model.load(Snapshot([], [], [], [], [], None))
    return model


def app_for(model: StoreModel) -> DashboardApp:
    return DashboardApp(None, model=model, sample_interval=3600.0, redraw_hz=50.0)


def text_of(app: DashboardApp, selector: str) -> str:
    return str(app.main.query_one(selector, Static).render())


async def test_the_all_time_line_shows_the_stores_analytics_between_ticks() -> None:
    """Issue 11, 1: a metrics.tick frame was taken for the analytics summary, so the
    all-time line flipped to "0 completed · 0 failed" every other half second."""
    model = empty_model()
    app = app_for(model)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("4")
        last: dict[str, Any] | None = None
        checked = 0
        for line in replay(model, recording()):
            last = line.get("analytics", last)
            kind = line.get("frame", {}).get("type")
            if last is None or kind not in ("metrics.tick", None):
                continue
            app.redraw(force=True)
            summary = text_of(app, "#analytics-summary")
            customer = last["customer"]
            assert f"{customer['completed']} completed" in summary, (kind, summary)
            assert f"{customer['per_minute']}/min" in summary, (kind, summary)
            checked += 1
        assert checked >= 15  # ten ticks and ten answers were replayed
        assert last is not None
        assert last["customer"]["completed"] > 0


async def test_the_orders_per_minute_chart_reads_the_stores_rate() -> None:
    """Issue 11, 2: the chart read 0 (peak 0) while the line above said 146/min."""
    model = empty_model()
    last_rate = 0
    for line in replay(model, recording()):
        if "analytics" in line:
            last_rate = line["analytics"]["customer"]["per_minute"]
    assert last_rate > 0
    assert model.series.per_minute, "no sample was taken"
    assert model.series.per_minute[-1] == last_rate
    app = app_for(model)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("4")
        label = app.main.query_one("#chart-per_minute", Chart)
        await until(pilot, lambda: f"orders per minute: {last_rate}" in str(label.render()))
        assert f"peak {last_rate}" in str(label.render())
        # A new figure between two samples: the chart says it as the line above does.
        known = model.analytics
        assert known is not None
        customer = msgspec.structs.replace(known.customer, per_minute=last_rate + 7)
        model.set_analytics(msgspec.structs.replace(known, customer=customer))
        app.redraw(force=True)
        assert f"{last_rate + 7}/min" in text_of(app, "#analytics-summary")
        await until(pilot, lambda: f"per minute: {last_rate + 7}" in str(label.render()))


def more_orders(lines: list[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    """`count` new orders shaped like the recorded ones (new ids, later times)."""
    recorded = [
        line["frame"]
        for line in lines
        if line.get("frame", {}).get("type") == "order.updated"
        and line["frame"]["data"]["status"] == "COMPLETED"
    ]
    for n in range(count):
        frame = copy.deepcopy(recorded[n % len(recorded)])
        frame["data"]["order_id"] = f"ord_replayed{n:010d}"
        frame["data"]["created_at"] = f"2099-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000Z"
        yield {"frame": frame}


async def test_a_restock_stays_findable_and_the_count_is_the_stores() -> None:
    """Issue 11, 3: "N orders known" stuck at 400 (what the dashboard kept, not what the
    store holds), and a restock dropped off the list within ~20 s at 5 orders/s."""
    lines = recording()
    restock_id = next(
        line["frame"]["data"]["restock_id"]
        for line in lines
        if line.get("frame", {}).get("type") == "restock.updated"
    )
    last_tick = next(
        line["frame"]
        for line in reversed(lines)
        if line.get("frame", {}).get("type") == "metrics.tick"
    )
    tick = copy.deepcopy(last_tick)
    tick["data"]["orders"]["customer"]["COMPLETED"] += 1000
    customers = sum(tick["data"]["orders"]["customer"].values())
    model = empty_model()
    for _ in replay(model, [*lines, *more_orders(lines, 1000), {"frame": tick}]):
        pass
    app = app_for(model)
    async with app.run_test(size=(160, 50)) as pilot:
        status = app.main.query_one("#status", Static)
        await until(pilot, lambda: f"{customers:,} orders" in str(status.render()))
        assert "400" not in str(status.render())
        panel = app.main.query_one("#orders-panel", OrdersPanel)
        panel.query_one("#kind-filter", Select).value = "RESTOCK"
        table = app.main.query_one("#orders-table", LiveTable)
        await until(pilot, lambda: table.row_keys == [restock_id])
        assert (shown(table, restock_id) or [""] * 3)[2] == "COMPLETED"


def test_a_sparkline_is_drawn_against_zero() -> None:
    """Issue 11, 4: 197 → 200 units was drawn as a full-height drop."""
    assert fmt.spark([200, 199, 198, 197], 4) == "████"
    assert fmt.spark([100, 200], 2) == "▄█"
    assert fmt.spark([0, 0], 2) == "  "


async def test_recorded_stock_moves_are_drawn_true() -> None:
    """The recorded store sold a few units of each SKU out of hundreds: the inventory
    sparklines stay near the top instead of dropping to the bottom."""
    model = empty_model()
    for _ in replay(model, recording()):
        pass
    moved = [
        sku
        for sku, history in model.stock_history.items()
        if len(set(history)) > 1 and min(history) > 0.9 * max(history)
    ]
    assert moved, "the recording should move some stock a little"
    app = app_for(model)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        table = app.main.query_one("#inventory-table", LiveTable)
        await until(pilot, lambda: set(moved) <= set(table.row_keys))
        for sku in moved:
            trend = (shown(table, sku) or [""])[-1]
            assert set(trend) <= {"▇", "█"}, (sku, trend, list(model.stock_history[sku]))
