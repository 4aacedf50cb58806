"""A replacement catalog from config, and clear errors for a broken one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autogrocery.domain.catalog import CatalogError, live_products, load_catalog
from autogrocery.domain.records import StockLevel
from autogrocery.wiring import start_system
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
        assert [(i.sku, i.aisle, i.available) for i in await system.levels()] == [
            ("X-1", "bakery", 10)
        ]
        assert [r.robot_id for r in await system.robots()] == ["bakery-1"]
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


DESCRIBED = (
    SMALL
    + """name_en = "Test loaf (white)"
name_he = "לחם בדיקה"
category = "bakery"
brand = "Oven & Co"
size = "800 g"
container_type = "bag"
box_size = 12
keywords = ["bread", "לחם"]
shelf_life_days = 3
"""
)


def test_a_catalog_without_the_descriptive_fields_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(SMALL)
    [product] = load_catalog(path)
    assert (product.category, product.name_en, product.name_he) == ("bakery", "Test loaf", "")
    assert (product.brand, product.size, product.container_type) == ("", "", "")
    assert (product.box_size, product.keywords, product.shelf_life_days) == (None, (), None)
    assert product.names == ("Test loaf",)


def test_the_descriptive_fields_load(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(DESCRIBED, encoding="utf-8")
    [product] = load_catalog(path)
    assert product.name_en == "Test loaf (white)"
    assert product.name_he == "לחם בדיקה"
    assert (product.category, product.brand, product.size) == ("bakery", "Oven & Co", "800 g")
    assert (product.container_type, product.box_size, product.shelf_life_days) == ("bag", 12, 3)
    assert product.keywords == ("bread", "לחם")
    assert product.names == ("Test loaf", "Test loaf (white)", "לחם בדיקה", "bread", "לחם")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('container_type = "tin"', "products[0].container_type: must be one of can, plastic"),
        ("box_size = 1", "products[0].box_size: must be an integer from 2"),
        ('box_size = "6"', "products[0].box_size"),
        ("shelf_life_days = 0", "products[0].shelf_life_days: must be an integer from 1"),
        ("shelf_life_days = true", "products[0].shelf_life_days"),
        ('keywords = "bread"', "products[0].keywords: must be a list of non-empty strings"),
        ('keywords = [""]', "products[0].keywords"),
        ("name_he = 5", "products[0].name_he: must be a string"),
        ("shelf_life = 3", "unknown key shelf_life (did you mean shelf_life_days?)"),
        ('name_fr = "Pain"', "unknown key name_fr"),
    ],
)
def test_a_bad_descriptive_field_names_the_problem(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(SMALL + line + "\n")
    with pytest.raises(CatalogError, match=re.escape(message)):
        load_catalog(path)


def test_live_products_take_levels_and_the_details_stock_keeps(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(DESCRIBED, encoding="utf-8")
    (described,) = load_catalog(path)
    levels = [
        StockLevel(
            "X-1", "Renamed loaf", "bakery", "loaf", 7, 2, 2, 250, 100, details=described.details
        ),
        StockLevel("NEW-1", "Added by an operator", "bakery", "each", 3, 0, 1, 100, 50),
    ]
    renamed, added = live_products(levels)
    assert (renamed.name, renamed.stock, renamed.price) == ("Renamed loaf", 7, 250)
    assert renamed.name_en == "Test loaf (white)"  # said in the catalog, so kept
    assert (renamed.name_he, renamed.box_size, renamed.shelf_life_days) == ("לחם בדיקה", 12, 3)
    assert (added.category, added.name_en, added.name_he, added.box_size) == (
        "bakery",
        "Added by an operator",
        "",
        None,
    )
