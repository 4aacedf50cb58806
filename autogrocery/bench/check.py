"""After a run: the store's books must balance. A fast wrong store is not fast."""

from __future__ import annotations

from collections import Counter

from autogrocery.bench.pool import Level
from autogrocery.client import Account, StoreClient


async def stock_levels(client: StoreClient, operator: Account) -> dict[str, Level]:
    inventory = await client.every("/api/ops/inventory", account=operator)
    return {item["sku"]: item for item in inventory}


async def verify(
    client: StoreClient,
    operator: Account,
    before: dict[str, Level],
    picked: Counter[str],
    total_mismatches: int,
    exclusive: bool,
) -> list[str]:
    """Problems found (empty when every invariant holds).

    Always: every SKU's on_hand equals the sum of its ledger, 0 <= reserved <= on_hand,
    every completed order billed its preview total. When the bench had the store to
    itself: on_hand fell by exactly what completed orders picked, and no reservation
    was left behind.
    """
    problems = []
    reconcile = await client.call("GET", "/api/ops/reconcile", account=operator)
    for item in reconcile["items"]:
        if not item["ok"]:
            problems.append(
                f"{item['sku']}: on_hand {item['on_hand']}, reserved {item['reserved']}, "
                f"ledger {item['ledger']}"
            )
    if total_mismatches:
        problems.append(f"{total_mismatches} order(s) completed with a total != preview total")
    if exclusive:
        after = await stock_levels(client, operator)
        for sku, start in before.items():
            end = after[sku]
            if start["on_hand"] - end["on_hand"] != picked.get(sku, 0):
                problems.append(
                    f"{sku}: on_hand went {start['on_hand']} -> {end['on_hand']}, "
                    f"but completed orders picked {picked.get(sku, 0)}"
                )
            if end["reserved"] != start["reserved"]:
                problems.append(f"{sku}: {end['reserved'] - start['reserved']} left reserved")
    return problems
