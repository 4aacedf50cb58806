"""A replacement catalog from config, and clear errors for a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from autogrocery.app import start_system
from autogrocery.domain.catalog import CatalogError, load_catalog
from tests.conftest import ConfigFactory

SMALL = """
[[products]]
sku = "X-1"
name = "Test loaf"
aisle = "bakery"
unit = "loaf"
price = "2.00"
unit_cost = "1.00"
stock = 10
min_level = 2
"""


async def test_a_catalog_file_from_config_replaces_the_default(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(SMALL)
    system = await start_system(make_config(f"catalog.path={catalog}"))
    try:
        assert [(i["sku"], i["aisle"], i["available"]) for i in await system.catalog()] == [
            ("X-1", "bakery", 10)
        ]
        assert [r["robot_id"] for r in await system.robots()] == ["bakery-1"]
    finally:
        await system.stop()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no [[products]]"),
        (SMALL.replace('price = "2.00"', 'price = "two"'), "products[0]"),
        (SMALL.replace("stock = 10", "stock = -1"), "products[0].stock"),
        (SMALL.replace('unit = "loaf"\n', ""), "missing unit"),
        (SMALL + SMALL, "duplicate sku 'X-1'"),
        ("[[products]\n", "not valid TOML"),
    ],
)
def test_a_broken_catalog_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message.replace("[", r"\[")):
        load_catalog(path)
