"""Load from another process: N logins and M orders (preview + confirm) at once.

`python -m tests.api.load_driver URL LOGINS ORDERS`; prints `DONE <order ids…>`.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

import aiohttp


async def main(url: str, logins: int, orders: int) -> None:
    async with aiohttp.ClientSession(url) as http:

        async def login(name: str) -> dict[str, str]:
            async with http.post(
                "/api/auth/login", json={"username": name, "password": "load-password"}
            ) as r:
                assert r.status == 200, await r.text()
                token = (await r.json())["access_token"]
            return {"Authorization": f"Bearer {token}"}

        shopper = await login("shopper")
        async with http.get("/api/catalog", headers=shopper) as r:
            skus = [item["sku"] for item in (await r.json())["items"]]
        rng = random.Random(3)

        async def order() -> str:
            items = [{"sku": s, "quantity": 1} for s in rng.sample(skus, 3)]
            async with http.post(
                "/api/orders/preview", json={"items": items}, headers=shopper
            ) as r:
                assert r.status == 201, await r.text()
                order_id = (await r.json())["order_id"]
            async with http.post(f"/api/orders/{order_id}/confirm", headers=shopper) as r:
                assert r.status == 202, await r.text()
            return str(order_id)

        results = await asyncio.gather(
            *(login(f"late-{n}") for n in range(logins)), *(order() for _ in range(orders))
        )
    print("DONE", *results[logins:], flush=True)


if __name__ == "__main__":
    os.nice(10)  # the load stands in for clients on other machines: the store comes first
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
