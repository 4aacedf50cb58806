"""SQL for the stock actor's markdowns (store/markdown_schema.py)."""

from __future__ import annotations

from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert

SET_MARKDOWN = Insert(
    "markdowns", ("lot_id", "sku", "price", "since", "until", "user"), conflict="OR REPLACE"
)
INSERT_MARKDOWN_SALE = Insert(
    "markdown_sales", ("order_id", "lot_id", "sku", "quantity", "unit_price", "at")
)

# A row of `markdowns`: lot_id, sku, price, since, until, user.
MarkdownRow = tuple[str, str, int, float, float | None, str | None]

MARKDOWNS_NEWEST = (
    "SELECT k.lot_id, k.sku, k.price, k.since, k.until, k.user, "
    "COALESCE(SUM(s.quantity), 0), COALESCE(SUM(s.quantity * s.unit_price), 0) "
    "FROM markdowns k LEFT JOIN markdown_sales s ON s.lot_id = k.lot_id "
    "WHERE (k.since < ? OR (k.since = ? AND k.lot_id < ?)) "
    "AND (? OR k.until IS NULL OR k.until > ?) "
    "GROUP BY k.lot_id ORDER BY k.since DESC, k.lot_id DESC LIMIT ?"
)


def live_markdowns(db: SharedConnection, at: float) -> list[MarkdownRow]:
    """The markdowns not yet over at `at` (the stock actor keeps them in memory)."""
    rows = db.execute(
        "SELECT lot_id, sku, price, since, until, user FROM markdowns "
        "WHERE until IS NULL OR until > ?",
        (at,),
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
