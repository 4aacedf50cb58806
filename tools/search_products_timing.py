"""Timing what a search costs the stock actor on a big store, before the search itself.

    python -m tools.search_products_timing DIR

Opens the store in DIR in-process and times: every product's levels (`System.levels`,
what each `q` built before), the products a search reads the first time and once kept
(`System.described.products`), and the levels of a 100-product page (`levels_of`).
Prints medians in ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from autogrocery.config import load_config
from autogrocery.wiring import start_system


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)


async def measure(data_dir: str) -> dict[str, float]:
    config = load_config(env={}, overrides=[f"store.data_dir={data_dir}", "log.level=WARNING"])
    system = await start_system(config)
    try:
        every = []
        for _ in range(5):
            began = time.perf_counter()
            await system.levels()
            every.append(_ms(began))
        began = time.perf_counter()
        products = await system.described.products()
        first = _ms(began)
        kept = []
        for _ in range(50):
            began = time.perf_counter()
            await system.described.products()
            kept.append(_ms(began))
        skus = [product.sku for product in products[:100]]
        page = []
        for _ in range(50):
            began = time.perf_counter()
            await system.described.levels_of(skus)
            page.append(_ms(began))
        return {
            "levels_all_ms": statistics.median(every),
            "products_first_ms": first,
            "products_kept_ms": statistics.median(kept),
            "levels_of_100_ms": statistics.median(page),
        }
    finally:
        await system.stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(asyncio.run(measure(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
