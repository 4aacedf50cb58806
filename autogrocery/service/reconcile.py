"""The books check for operators and auditors: is anything wrong, and what.

Every SKU is checked (on_hand against the ledger in SQL, reserved against on_hand in
the stock actor), but only the SKUs that disagree are described: at 50,000 SKUs a
listing of every one is 3.4 MB that says "ok" 50,000 times. A listing of every SKU is
still there, a page at a time, for an audit that wants to see them.
"""

from __future__ import annotations

from autogrocery.domain.messages.stock import LevelsOf, ReservedAmiss
from autogrocery.domain.records import StockLevel
from autogrocery.service.answers import Reconciliation
from autogrocery.service.stock_reports import Ask
from autogrocery.service.system_checks import sku_checks
from autogrocery.store.reads import Reader


async def reconciliation(
    ask: Ask, reader: Reader, limit: int | None = None, after: str = ""
) -> Reconciliation:
    """`{ok, checked, items, next_cursor}`: `ok` and `checked` (how many SKUs) are of
    the whole store; `items` are the SKUs that fail, or, with `limit`, up to `limit`
    SKUs after the SKU `after`, failing or not (`next_cursor`: the last one shown, when
    there are more)."""
    checked, wrong = await reader.ledger_disagreements()
    amiss: list[StockLevel] = await ask("stock", ReservedAmiss())
    ok = not wrong and not amiss
    if limit is None:
        ledger = {**wrong, **await reader.ledger_of([level.sku for level in amiss])}
        items = sku_checks(ledger, await _levels(ask, ledger))
        return {"ok": ok, "checked": checked, "items": items, "next_cursor": None}
    ledger = await reader.ledger_page(after, limit + 1)
    more = len(ledger) > limit
    ledger = dict(list(ledger.items())[:limit])
    items = sku_checks(ledger, await _levels(ask, ledger))
    following = items[-1]["sku"] if more else None
    return {"ok": ok, "checked": checked, "items": items, "next_cursor": following}


async def _levels(ask: Ask, skus: dict[str, tuple[int, int]]) -> list[StockLevel]:
    levels: list[StockLevel] = await ask("stock", LevelsOf(tuple(skus)))
    return levels
