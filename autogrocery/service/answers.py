"""What the stock reports and the books check answer, as typed dicts.

They are dicts because they are answered as they are: the API encodes them as its
replies (contract/ops.py declares the same keys and types: tests/api/test_answer_shapes.py
holds the two together), and their
readers (the routes, the commands, tests) index them by key. `from` is a keyword, hence
the functional form of the reports that have it.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class SkuUsage(TypedDict):
    """A SKU's usage: `days` (by day) or `months` (by month), as `domain.reports.breakdown`
    gives them."""

    sku: str
    total: int
    days: NotRequired[list[dict[str, object]]]
    months: NotRequired[list[dict[str, object]]]


UsageReport = TypedDict(
    "UsageReport",
    {
        "from": str,
        "to": str,
        "span_days": float,
        "skus": list[SkuUsage],
        "next_cursor": str | None,  # the last SKU shown, when there are more
    },
)


class SkuWaste(TypedDict):
    sku: str
    quantity: int
    value: str  # money, as format_money writes it


class MarkedDownWaste(TypedDict):
    wasted: int
    wasted_value: str
    sold: int
    sold_value: str


class UnmarkedWaste(TypedDict):
    wasted: int
    wasted_value: str


class MarkdownEffect(TypedDict):
    """The period's waste from lots that had a markdown and from those that had none."""

    marked_down: MarkedDownWaste
    not_marked_down: UnmarkedWaste


WasteReport = TypedDict(
    "WasteReport",
    {
        "from": str,
        "to": str,
        "total_value": str | None,  # None for a page: the period's total is every SKU's
        "next_cursor": str | None,
        "skus": list[SkuWaste],
        "markdowns": MarkdownEffect | None,
    },
)


class ReorderSuggestion(TypedDict):
    sku: str
    available: int
    min_level: int
    daily_usage: float
    days_of_cover: float | None
    quantity: int


class ReorderReport(TypedDict):
    usage_days: int
    span_days: float
    lead_time_days: int
    suggestions: list[ReorderSuggestion]


class LotCheck(TypedDict):
    """A lot's on_hand against the sum of its movements (`ledger`)."""

    lot_id: str
    on_hand: int
    ledger: int
    ok: bool


class SkuCheck(TypedDict):
    """A SKU's stored on_hand against its ledger, and what is reserved against it."""

    sku: str
    on_hand: int
    reserved: int
    ledger: int
    ok: bool


class Reconciliation(TypedDict):
    """The books check (`service/reconcile.py`): `ok` and `checked` are the whole
    store's; `next_cursor` the last SKU shown, when there are more."""

    ok: bool
    checked: int
    items: list[SkuCheck]
    next_cursor: str | None
