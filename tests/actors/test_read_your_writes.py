"""An acknowledged order is readable by its owner at every instant after (issue 10, 0).

Under load, devices poll their own orders from the moment the confirm is answered until
they complete, as a fridge's app does. Not one poll may say the order does not exist.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from autogrocery.domain.errors import NotFound
from autogrocery.service.system import System
from tests.helpers import line

pytestmark = pytest.mark.timeout(120)


async def test_owners_never_get_a_404_for_their_own_orders_under_load(system: System) -> None:
    skus = [item.sku for item in await system.levels()]
    not_found: list[str] = []
    polls = 0

    async def device(n: int) -> None:
        nonlocal polls
        owner = f"fridge-{n}"
        rng = random.Random(n)
        for _ in range(12):
            items = [line(sku, 1) for sku in rng.sample(skus, 3)]
            order = await system.preview(owner, items)
            order_id = order.order_id
            await system.confirm(order_id, owner)
            while True:
                polls += 1
                try:
                    view = await system.get_order(order_id, owner)
                except NotFound:
                    not_found.append(order_id)
                    await asyncio.sleep(0.002)
                    continue
                if view.status in ("COMPLETED", "FAILED"):
                    break
                await asyncio.sleep(0.002)

    await asyncio.wait_for(asyncio.gather(*(device(n) for n in range(32))), 90)
    assert polls > 32 * 12
    assert not_found == [], f"{len(not_found)} of {polls} polls said 'no order'"
