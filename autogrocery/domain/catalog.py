"""Reading the product catalog (TOML) into `Product`s, with clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from autogrocery.domain.models import Product
from autogrocery.domain.money import parse_money

_FIELDS = {"sku", "name", "aisle", "unit", "price", "unit_cost", "stock", "min_level"}


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


def _product(index: int, entry: Any) -> Product:
    where = f"catalog: products[{index}]"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: not a table")
    if missing := _FIELDS - set(entry):
        raise CatalogError(f"{where}: missing {', '.join(sorted(missing))}")
    if extra := set(entry) - _FIELDS:
        raise CatalogError(f"{where}: unknown key {', '.join(sorted(extra))}")
    for key in ("sku", "name", "aisle", "unit"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise CatalogError(f"{where}.{key}: must be a non-empty string")
    for key in ("stock", "min_level"):
        value = entry[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CatalogError(f"{where}.{key}: must be a non-negative integer")
    try:
        price = parse_money(entry["price"])
        unit_cost = parse_money(entry["unit_cost"])
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    if price <= 0:
        raise CatalogError(f"{where}.price: must be positive")
    return Product(
        sku=entry["sku"],
        name=entry["name"],
        aisle=entry["aisle"],
        unit=entry["unit"],
        price=price,
        unit_cost=unit_cost,
        stock=entry["stock"],
        min_level=entry["min_level"],
    )
