"""Bodies of the at-risk report and of lots' markdowns (routes_markdowns.py), and the
waste report's comparison of lots with and without a markdown."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from autogrocery.contract.base import Body, IsoDate, Money, MoneyIn, Request, Timestamp


class MarkdownRequest(Request):
    price: Annotated[
        MoneyIn | None,
        Meta(description="Below the product's price; null ends the lot's markdown now."),
    ]
    until: (
        Annotated[
            str,
            Meta(
                description="When the markdown ends: an RFC 3339 time, or a date "
                "(YYYY-MM-DD: at the end of that day, the store's). Absent: when the lot "
                "is gone or expires.",
                examples=["2026-11-27", "2026-11-27T18:00:00Z"],
                max_length=40,
            ),
        ]
        | None
    ) = None


class Markdown(Body):
    price: Annotated[Money, Meta(description="What the lot's units sell for.")]
    since: Timestamp
    until: Annotated[Timestamp | None, Meta(description="Null: until the lot is gone.")]


class MarkedLot(Body):
    lot_id: str
    sku: str
    name: str
    expiry_date: IsoDate | None
    on_hand: int
    held: Annotated[int, Meta(description="Held by open orders (at the price they locked).")]
    unit_cost: Money
    price: Annotated[Money, Meta(description="The product's price.")]
    markdown: Annotated[Markdown | None, Meta(description="Null: sold at the product's price.")]


class MarkdownEntry(Body):
    lot_id: str
    sku: str
    price: Money
    since: Timestamp
    until: Annotated[Timestamp | None, Meta(description="Null: until the lot is gone.")]
    user: Annotated[str | None, Meta(description="The operator who set it.")]
    active: Annotated[bool, Meta(description="Not over yet.")]
    sold: Annotated[int, Meta(description="Units settled orders took at this price.")]
    sold_value: Annotated[Money, Meta(description="What they were billed.")]


class MarkdownList(Body):
    markdowns: list[MarkdownEntry]
    next_cursor: Annotated[
        str | None, Meta(description="Send as `cursor` for the next page; null on the last.")
    ] = None


class AtRiskLot(MarkedLot):
    daily_sales: Annotated[
        float, Meta(description="The product's units sold a day over the report's `days`.")
    ]
    selling_days: Annotated[
        float,
        Meta(
            description="Days the lot is the one on sale before its best-before day ends: "
            "from when the lots that expire before it are expected to be gone."
        ),
    ]
    expected_sold: Annotated[int, Meta(description="Of the units not held, at that rate.")]
    left_at_expiry: Annotated[int, Meta(description="Expected left when it expires.")]
    cost_at_risk: Annotated[Money, Meta(description="left_at_expiry at the lot's unit cost.")]
    suggested_price: Annotated[
        Money, Meta(description="The markdown that would sell it in time (docs/api.md).")
    ]
    left_at_suggested: Annotated[
        int, Meta(description="Units still expected left at expiry at suggested_price.")
    ]
    below_cost: Annotated[bool, Meta(description="suggested_price is below unit_cost.")]


class AtRiskReport(Body):
    days: Annotated[int, Meta(description="The days of sales the rates are taken over.")]
    span_days: Annotated[
        float, Meta(description="What the rates are divided by: days, or the store's age.")
    ]
    elasticity: Annotated[float, Meta(description="stock.markdown_elasticity.")]
    lots: list[AtRiskLot]
    next_cursor: Annotated[
        str | None, Meta(description="Send as `cursor` for the next page; null on the last.")
    ] = None


class MarkedDownWaste(Body):
    wasted: Annotated[int, Meta(description="Units written off from lots with a markdown.")]
    wasted_value: Money
    sold: Annotated[int, Meta(description="Units sold at a markdown price in the period.")]
    sold_value: Annotated[Money, Meta(description="What they were billed.")]


class UnmarkedWaste(Body):
    wasted: Annotated[int, Meta(description="Units written off from lots never marked down.")]
    wasted_value: Money


class MarkdownEffect(Body):
    """The period's waste split by whether its lot had a markdown before it was written
    off, beside the units sold at markdown prices."""

    marked_down: MarkedDownWaste
    not_marked_down: UnmarkedWaste
