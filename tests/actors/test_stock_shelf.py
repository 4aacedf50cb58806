"""The stock actor's pages in shelf order follow the products: one added, or moved to
another aisle by a catalog version, is listed where it now belongs."""

from __future__ import annotations

from pathlib import Path

from autogrocery.chain import desk
from autogrocery.chain.protocol import CatalogProduct, CatalogVersion
from autogrocery.domain.messages.stock import StockPage
from autogrocery.service.system import System
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory


async def _aisle(system: System, aisle: str) -> list[str]:
    return [level.sku for level in await system.level_page(StockPage(limit=100, aisle=aisle))]


async def test_pages_follow_a_product_moved_or_added_by_a_catalog_version(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    config = make_config("robots.per_aisle=1", f"chain.join={tmp_path / 'north.join'}")
    system = await start_system(config, robot_seed=7)
    try:
        assert "BRD-001" in await _aisle(system, "bread")  # the order is built and kept
        moved = CatalogVersion(1, [CatalogProduct("BRD-001", aisle="dairy")])
        assert await desk.apply_catalog(system, moved) == 1
        assert "BRD-001" not in await _aisle(system, "bread")
        assert (await _aisle(system, "dairy"))[0] == "BRD-001"  # by SKU within the aisle
        added = CatalogVersion(2, [CatalogProduct("DAI-000", name="Oat", aisle="dairy", price=299)])
        assert await desk.apply_catalog(system, added) == 2
        assert (await _aisle(system, "dairy"))[:2] == ["BRD-001", "DAI-000"]
        after_first = await system.level_page(
            StockPage(limit=1, after=("dairy", "BRD-001"), aisle="dairy")
        )
        assert [level.sku for level in after_first] == ["DAI-000"]
    finally:
        await system.stop()
