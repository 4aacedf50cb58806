"""Runs a store and keeps ordering, printing each acknowledged step, until it is killed.

Used by the crash drill: `python -m tests.e2e.crash_driver DATA_DIR`.
"""

from __future__ import annotations

import asyncio
import random
import sys

from autogrocery.app import start_system
from autogrocery.config import load_config


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
    skus = [item["sku"] for item in await system.catalog()]
    gate = asyncio.Semaphore(24)

    async def customer(n: int) -> None:
        async with gate:
            items = [{"sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(skus, 3)]
            preview = await system.preview(f"fridge-{n % 7}", items)
            print("PREVIEWED", preview["order_id"], flush=True)
            if n % 9 == 0:
                return  # left unconfirmed: the reservation must survive the crash
            await system.confirm(preview["order_id"], f"fridge-{n % 7}")
            print("CONFIRMED", preview["order_id"], flush=True)

    async def truck(n: int) -> None:
        async with gate:
            items = [{"sku": s, "quantity": 20, "unit_cost": "1.10"} for s in rng.sample(skus, 3)]
            restock = await system.restock(f"truck-{n}", items)
            print("RESTOCK", restock["restock_id"], flush=True)

    print("READY", flush=True)
    await asyncio.gather(*(customer(n) for n in range(400)), *(truck(n) for n in range(10)))
    print("DONE", flush=True)
    await asyncio.Event().wait()  # hold still until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
