"""The dashboard's pure parts: the model that coalesces events, and form validation."""

from __future__ import annotations

import re

import msgspec
import pytest

from autogrocery.client import UnexpectedAnswer, decode_event
from autogrocery.contract.events import Event
from autogrocery.tui import format as fmt
from autogrocery.tui.forms import (
    BelowCost,
    FormError,
    check_whole,
    parse_adjust,
    parse_manifest,
    parse_product,
    plain,
)
from autogrocery.tui.model import MAX_ORDERS, StoreModel
from tests.tui import fixed, shapes

INVENTORY = {
    sku: shapes.item(
        {"sku": sku, "on_hand": on_hand, "reserved": reserved, "price": price, "unit_cost": cost}
    )
    for sku, _, _, on_hand, reserved, _, price, cost in fixed.PRODUCTS
}


def order_event(n: int, status: str, latency: float | None = None) -> Event:
    view = {"order_id": f"ord_{n}", "kind": "CUSTOMER", "status": status, "items": []}
    view |= {"created_at": f"2026-01-01T00:00:{n % 60:02d}.000Z", "latency_ms": latency}
    return shapes.event("order.updated", shapes.order(view))


def test_events_update_the_model_and_mark_panels_dirty_once() -> None:
    model = StoreModel(clock=lambda: 100.0)
    model.load(fixed.snapshot())
    model.dirty.clear()
    for n in range(1000):
        model.apply(order_event(n, "PROCESSING"))
        model.apply(order_event(n, "COMPLETED", 5.0 + n % 10))
    assert model.dirty == {"orders"}  # a thousand events, one redraw
    assert len(model.orders) == MAX_ORDERS
    assert model.recent_orders(limit=1)[0].order_id == "ord_999"  # type: ignore[union-attr]
    model.apply(order_event(999, "COMPLETED", 5.0))  # a repeat is not counted twice
    model.sample()
    assert model.series.completed_per_second[-1] == 1000
    assert 5.0 <= model.series.p50[-1] <= model.series.p99[-1] <= 14.0

    model.apply(shapes.event("stock.changed", fixed.product("BRD-001", available=3)))
    model.apply(shapes.event("alert.raised", fixed.low_alert("BRD-001", 3), at="t"))
    assert model.inventory["BRD-001"].available == 3
    assert "BRD-001" in model.alerts
    model.apply(shapes.event("alert.cleared", fixed.low_alert("BRD-001", 90)))
    assert "BRD-001" not in model.alerts
    model.apply(shapes.event("robot.updated", fixed.robot("meat-2", state="offline")))
    assert sorted(model.offline_robots()) == ["meat-1", "meat-2"]
    # An event the dashboard does not know is no event: the feed drops it (and logs it).
    with pytest.raises(UnexpectedAnswer, match=re.escape("no.such.event")):
        decode_event(b'{"type": "no.such.event", "seq": 1, "at": "", "data": {}}')
    # A product the snapshot did not have comes whole with its stock.changed (before the
    # contract, a bare price change of an unknown SKU was skipped).
    model.apply(shapes.event("stock.changed", shapes.item({"sku": "NEW-1", "aisle": "bread"})))
    assert "NEW-1" in model.inventory


def test_manifest_validation() -> None:
    assert parse_manifest("brd-001 5\n\nDAI-001 2 0.50; PRO-001,3", INVENTORY) == [
        {"sku": "BRD-001", "quantity": 5, "unit_cost": "3.23"},
        {"sku": "DAI-001", "quantity": 2, "unit_cost": "0.50"},
        {"sku": "PRO-001", "quantity": 3, "unit_cost": "0.88"},
    ]
    with pytest.raises(FormError) as caught:
        parse_manifest(
            "XXX 1\nBRD-001 0\nBRD-001 1001\nBRD-001\nBRD-001 2 -1\nBRD-001 2 0", INVENTORY
        )
    assert str(caught.value).splitlines() == [
        "line 1: unknown SKU 'XXX'",
        "line 2: quantity must be between 1 and 1000, got 0",
        "line 3: quantity must be between 1 and 1000, got 1001",
        "line 4: expected SKU QUANTITY [UNIT_COST], got 'BRD-001'",
        "line 5: unit cost: expected a non-negative amount, got '-1'",
        "line 6: unit cost must be above 0",  # a cost of 0 would reprice the SKU to 0.01
    ]
    free = {"BRD-001": msgspec.structs.replace(INVENTORY["BRD-001"], unit_cost="0.00")}
    with pytest.raises(FormError, match="BRD-001 has no unit cost yet: give one"):
        parse_manifest("BRD-001 5", free)
    with pytest.raises(FormError, match="not loaded yet"):
        parse_manifest("BRD-001 1", {})


def test_adjust_and_product_validation() -> None:
    assert parse_adjust(" brd-001 ", "-3", "WASTE", " ", INVENTORY) == (
        "BRD-001",
        -3,
        "WASTE",
        None,
    )
    with pytest.raises(FormError, match="delta must not be 0"):
        parse_adjust("BRD-001", "0", "COUNT", "", INVENTORY)
    with pytest.raises(FormError, match="reason must be one of"):
        parse_adjust("BRD-001", "1", "STOLEN", "", INVENTORY)
    assert parse_product("BRD-001", "4.5", "", INVENTORY) == ("BRD-001", {"price": "4.50"})
    assert parse_product("BRD-001", "", "12", INVENTORY) == ("BRD-001", {"min_level": 12})
    with pytest.raises(FormError, match="give a new price, a new min level, or both"):
        parse_product("BRD-001", "", "", INVENTORY)
    with pytest.raises(FormError, match="price must be above 0"):
        parse_product("BRD-001", "0.00", "", INVENTORY)
    with pytest.raises(BelowCost, match=re.escape("3.00 is below BRD-001's unit cost 3.23")):
        parse_product("BRD-001", "3.00", "", INVENTORY)
    assert parse_product("BRD-001", "3.00", "", INVENTORY, below_cost_ok=True)[1] == {
        "price": "3.00"
    }
    # BRD-001: 182 on hand, 4 reserved
    with pytest.raises(FormError) as caught:
        parse_adjust("BRD-001", "-99999", "WASTE", "", INVENTORY)
    assert str(caught.value) == (
        "only 182 on hand and 4 of them reserved for orders; cannot remove 99,999 (at most 178)"
    )
    with pytest.raises(FormError, match=re.escape("waste takes stock away: give a negative")):
        parse_adjust("BRD-001", "5", "WASTE", "", INVENTORY)
    assert parse_adjust("BRD-001", "-178", "WASTE", "", INVENTORY)[1] == -178


def test_a_field_is_judged_as_it_is_typed() -> None:
    assert (
        check_whole("abc", "delta", low=-10, high=10) == "delta must be a whole number, got 'abc'"
    )
    assert check_whole("", "delta", low=-10, high=10) is None  # empty: said at submit
    assert check_whole("-3", "delta", low=-10, high=10) is None


def test_the_stores_errors_in_plain_words() -> None:
    detail = (
        "only 126 of BRD-001 can be taken (on hand 126, 0 reserved for orders); cannot take 99999"
    )
    assert plain(409, detail) == "only 126 on hand; cannot remove 99,999"
    assert plain(503, "no robot of aisle meat is online") == (
        "the store cannot do it now: no robot of aisle meat is online"
    )
    assert plain(400, "invalid body", [{"field": "items[0].sku", "message": "unknown"}]) == (
        "invalid body\nitems[0].sku: unknown"
    )
    # an answer that is not the contract's shape (`UnexpectedAnswer`, status 0)
    odd = UnexpectedAnswer("Object contains unknown field `x` - at `$`", what="/api/ops/robots")
    assert plain(odd.status, odd.detail) == (
        "the store answered what the dashboard does not understand: "
        "Object contains unknown field `x` - at `$`"
    )


def test_formats() -> None:
    assert fmt.spark([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert fmt.spark([5, 5], 4) == "██"  # against zero, not against the smallest value
    assert fmt.latency(1234.5) == "1.23 s"
    assert fmt.latency(None) == "-"
    assert fmt.clock("2026-01-01T12:34:56.789Z") == "12:34:56"
    assert fmt.ago("2026-01-01T00:00:00.000Z", fixed.NOW + 75) == "1m ago"
