"""Reading the product catalog (TOML) into `Product`s, with clear errors.

Each `[[products]]` table needs the stock fields (`_REQUIRED`); the descriptive ones
(`_OPTIONAL`: category, brand, names in other languages, box size, shelf life…) may be
left out, so catalogs written before they existed still load.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TypeGuard

from autogrocery.domain.models import CONTAINER_TYPES, Product, ProductDetails, sku_problem
from autogrocery.domain.money import parse_money
from autogrocery.domain.records import StockLevel

_REQUIRED = {"sku", "name", "aisle", "unit", "price", "unit_cost", "stock", "min_level"}
_TEXT = ("category", "brand", "size", "name_en", "name_he")
_OPTIONAL = {*_TEXT, "container_type", "box_size", "keywords", "shelf_life_days"}
MAX_SHELF_LIFE_DAYS = 3660
MAX_BOX_SIZE = 10_000


class CatalogError(ValueError):
    """The catalog file is missing or malformed; the message names the entry and field."""


def load_catalog(path: Path) -> list[Product]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"catalog: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog: {path} is not valid TOML: {exc}") from None
    entries = data.get("products")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"catalog: {path} has no [[products]] entries")
    products = [_product(i, entry) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for product in products:
        if product.sku in seen:
            raise CatalogError(f"catalog: duplicate sku {product.sku!r}")
        seen.add(product.sku)
    return products


def _product(index: int, table: object) -> Product:
    where = f"catalog: products[{index}]"
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: not a table")
    entry: dict[str, object] = table  # TOML keys are strings; values are checked below
    if missing := _REQUIRED - set(entry):
        raise CatalogError(f"{where}: missing {', '.join(sorted(missing))}")
    if extra := set(entry) - _REQUIRED - _OPTIONAL:
        key = sorted(extra)[0]
        hint = difflib.get_close_matches(key, sorted(_REQUIRED | _OPTIONAL), n=1)
        raise CatalogError(
            f"{where}: unknown key {key}" + (f" (did you mean {hint[0]}?)" if hint else "")
        )
    sku, name, aisle, unit = (_named(entry, key, where) for key in ("sku", "name", "aisle", "unit"))
    if problem := sku_problem(sku):
        raise CatalogError(f"{where}.sku: {problem}")
    stock, min_level = (_count(entry, key, where) for key in ("stock", "min_level"))
    try:
        price = parse_money(entry["price"])
        unit_cost = parse_money(entry["unit_cost"])
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    if price <= 0:
        raise CatalogError(f"{where}.price: must be positive")
    text = {key: _text(entry, key, where) for key in _TEXT}
    container = _text(entry, "container_type", where)
    if container and container not in CONTAINER_TYPES:
        raise CatalogError(
            f"{where}.container_type: must be one of {', '.join(CONTAINER_TYPES)}, "
            f"not {container!r}"
        )
    return Product(
        sku=sku,
        name=name,
        aisle=aisle,
        unit=unit,
        price=price,
        unit_cost=unit_cost,
        stock=stock,
        min_level=min_level,
        category=text["category"] or aisle,
        brand=text["brand"],
        size=text["size"],
        container_type=container,
        box_size=_optional_whole(entry, "box_size", 2, MAX_BOX_SIZE, where),
        name_en=text["name_en"] or name,
        name_he=text["name_he"],
        keywords=_keywords(entry.get("keywords", []), where),
        shelf_life_days=_optional_whole(entry, "shelf_life_days", 1, MAX_SHELF_LIFE_DAYS, where),
    )


def _named(entry: dict[str, object], key: str, where: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}.{key}: must be a non-empty string")
    return value


def _count(entry: dict[str, object], key: str, where: str) -> int:
    value = entry[key]
    if not _whole(value, 0):
        raise CatalogError(f"{where}.{key}: must be a non-negative integer")
    return value


def _whole(value: object, low: int, high: int | None = None) -> TypeGuard[int]:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= low
        and (high is None or value <= high)
    )


def _text(entry: dict[str, object], key: str, where: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise CatalogError(f"{where}.{key}: must be a string")
    return value.strip()


def _optional_whole(
    entry: dict[str, object], key: str, low: int, high: int, where: str
) -> int | None:
    if key not in entry:
        return None
    value = entry[key]
    if not _whole(value, low, high):
        raise CatalogError(f"{where}.{key}: must be an integer from {low} to {high}")
    return int(value)


def _keywords(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogError(f"{where}.keywords: must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def live_products(levels: Iterable[StockLevel]) -> list[Product]:
    """The store's products as stock keeps them now: levels, price and the details that
    describe them (a SKU nobody described gets the defaults the loader would give it)."""
    found = []
    for level in levels:
        d = level.details or ProductDetails.default(level.aisle)
        found.append(
            Product(
                sku=level.sku,
                name=level.name,
                aisle=level.aisle,
                unit=level.unit,
                price=level.price,
                unit_cost=level.unit_cost,
                stock=level.on_hand,
                min_level=level.min_level,
                category=d.category or level.aisle,
                brand=d.brand,
                size=d.size,
                container_type=d.container_type,
                box_size=d.box_size,
                name_en=d.name_en or level.name,
                name_he=d.name_he,
                keywords=d.keywords,
                shelf_life_days=d.shelf_life_days,
            )
        )
    return found
