"""Runs a store and keeps ordering, printing each acknowledged step, until it is killed.

Used by the crash drill: `python -m tests.e2e.crash_driver DATA_DIR`.
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import timedelta

from autogrocery.config import load_config
from autogrocery.domain.errors import Conflict
from autogrocery.wiring import start_system
from tests.helpers import line


async def main(data_dir: str) -> None:
    config = load_config(
        env={},
        overrides=[
            f"store.data_dir={data_dir}",
            "robots.pick_time=0.03",
            "robots.per_aisle=2",
            "log.level=WARNING",
        ],
    )
    system = await start_system(config)
    rng = random.Random(11)
    skus = [item.sku for item in await system.levels()]
    gate = asyncio.Semaphore(24)

    async def customer(n: int) -> None:
        async with gate:
            items = [line(s, rng.randint(1, 3)) for s in rng.sample(skus, 3)]
            preview = await system.preview(f"fridge-{n % 7}", items)
            print("PREVIEWED", preview.order_id, flush=True)
            if n % 9 == 0:
                return  # left unconfirmed: the reservation must survive the crash
            await system.confirm(preview.order_id, f"fridge-{n % 7}")
            print("CONFIRMED", preview.order_id, flush=True)
            if n % 5 == 3:  # the shopper changes their mind while robots pick
                print("CANCELLING", preview.order_id, flush=True)
                try:
                    await system.cancel(preview.order_id, f"fridge-{n % 7}")
                except Conflict:
                    return  # every item picked already: it completes
                print("CANCELLED", preview.order_id, flush=True)

    async def truck(n: int) -> None:
        async with gate:
            # Dated lots (one due tomorrow, one in a week) next to undated stock, so the
            # drill checks the books per lot as well as per SKU.
            today = system.today()
            first, second, undated = rng.sample(skus, 3)
            items = [
                line(first, 20, "1.10", str(today + timedelta(days=1))),
                line(second, 20, "1.10", str(today + timedelta(days=7))),
                line(undated, 20, "1.10"),
            ]
            restock = await system.restock(f"truck-{n}", items)
            print("RESTOCK", restock.order_id, flush=True)

    async def waste(n: int) -> None:
        async with gate:
            try:
                await system.adjust_stock(skus[n % len(skus)], -1, "WASTE", f"drill-{n}")
            except Conflict:
                return  # nothing free to throw away
            print("WASTE", f"drill-{n}", flush=True)

    print("READY", flush=True)
    steps = []
    for n in range(400):  # trucks and waste among the customers, so the kill meets them all
        steps.append(customer(n))
        if n % 30 == 1:
            steps.append(truck(n))
        if n % 15 == 2:
            steps.append(waste(n))
    await asyncio.gather(*steps)
    print("DONE", flush=True)
    await asyncio.Event().wait()  # hold still until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
