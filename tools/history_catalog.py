"""A supermarket-sized catalog grown from the shipped one, for `tools.fill_history`.

The shipped catalog's products come first, as they are (a store started with the
default catalog file finds its own products described as the file says). The others
are its products again as other brands sell them, in other varieties and packs, named
in both of the catalog's languages ("Carmel Cola 2 l cherry 6 pack" / "קולה 2 ליטר
דובדבן שישייה כרמל"), with the shipped product's keywords, so that search finds
hundreds of colas in 50,000 products. Fresh food stays fresh only in part: most
varieties of a dated product are the long-life kind (frozen, UHT, dried), as in a real
store, where a few thousand of its tens of thousands of products carry a date.

Each product also gets its demand: a weight in a long-tailed (Zipf-like) distribution,
the shipped products the most popular, and the stock and min level that demand calls
for (deep stock: six weeks of sales for the long-life goods; for fresh ones, what
sells before it expires).
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from autogrocery.domain.catalog import load_catalog
from autogrocery.domain.models import Product
from autogrocery.domain.money import round_cents

BRANDS = (
    ("Green Valley", "גרין ואלי"),
    ("Fizzo", "פיזו"),
    ("Spring Hill", "ספרינג היל"),
    ("Golden Field", "שדה הזהב"),
    ("Sunny Farm", "חוות השמש"),
    ("Blue Coast", "החוף הכחול"),
    ("Old Mill", "הטחנה הישנה"),
    ("Harvest Moon", "ירח הקציר"),
    ("Little Oak", "האלון הקטן"),
    ("Red Hen", "התרנגולת האדומה"),
    ("North Star", "כוכב הצפון"),
    ("Cedar", "ארז"),
    ("Olive Grove", "כרם הזיתים"),
    ("Desert Rose", "ורד המדבר"),
    ("Galil", "גליל"),
    ("Carmel", "כרמל"),
    ("Negev", "נגב"),
    ("Home Choice", "בחירת הבית"),
    ("Value", "חסכוני"),
    ("Premium", "פרימיום"),
)
VARIETIES = {
    "bread": (
        ("sesame", "שומשום"),
        ("spelt", "כוסמין"),
        ("gluten-free", "ללא גלוטן"),
        ("sliced", "פרוס"),
        ("mini", "מיני"),
        ("multigrain", "רב דגנים"),
        ("olive", "זיתים"),
        ("onion", "בצל"),
        ("honey", "דבש"),
        ("classic", "קלאסי"),
    ),
    "meat": (
        ("organic", "אורגני"),
        ("marinated", "מתובל"),
        ("spicy", "חריף"),
        ("lean", "רזה"),
        ("thin cut", "פרוס דק"),
        ("smoked", "מעושן"),
        ("herb", "עשבי תיבול"),
        ("barbecue", "על האש"),
        ("kosher", "כשר"),
        ("classic", "קלאסי"),
    ),
    "produce": (
        ("organic", "אורגני"),
        ("baby", "בייבי"),
        ("red", "אדום"),
        ("green", "ירוק"),
        ("yellow", "צהוב"),
        ("local", "מקומי"),
        ("large", "גדול"),
        ("small", "קטן"),
        ("washed", "שטוף"),
        ("sweet", "מתוק"),
    ),
    "dairy": (
        ("light", "לייט"),
        ("lactose-free", "ללא לקטוז"),
        ("goat", "עיזים"),
        ("sheep", "כבשים"),
        ("organic", "אורגני"),
        ("vanilla", "וניל"),
        ("strawberry", "תות"),
        ("plain", "טבעי"),
        ("high-protein", "עשיר בחלבון"),
        ("classic", "קלאסי"),
    ),
    "party": (
        ("zero", "זירו"),
        ("diet", "דיאט"),
        ("cherry", "דובדבן"),
        ("lemon", "לימון"),
        ("lime", "ליים"),
        ("orange", "תפוז"),
        ("vanilla", "וניל"),
        ("mango", "מנגו"),
        ("extra", "אקסטרה"),
        ("classic", "קלאסי"),
    ),
}
PACKS = (
    ("", "", 1),
    ("twin pack", "זוג", 2),
    ("4 pack", "רביעייה", 4),
    ("6 pack", "שישייה", 6),
    ("family pack", "מארז משפחתי", 10),
)
# What makes a fresh product's variety keep without a date, by aisle.
LONG_LIFE = {
    "bread": ("toasted", "קלוי"),
    "meat": ("frozen", "קפוא"),
    "produce": ("dried", "מיובש"),
    "dairy": ("long-life", "עמיד"),
    "party": ("long-life", "עמיד"),
}
FRESH_SHARE = 0.2  # of the varieties of a dated product, how many stay dated
ZIPF_OFFSET, ZIPF_EXPONENT = 20, 1.1  # weight of rank r: 1 / (r + offset) ** exponent


@dataclass(frozen=True, slots=True)
class Catalog:
    """The products (stock and min level set from demand) and each one's share of the
    order lines (`weights`, in the same order; they sum to 1)."""

    products: list[Product]
    weights: list[float]


def grow_catalog(shipped_file: Path, size: int, rng: random.Random) -> list[Product]:
    """`size` products: the shipped ones first (a smaller size takes the first of them),
    then varieties of them, in a shuffled order."""
    shipped = load_catalog(shipped_file)
    products = shipped[:size]
    wanted = size - len(products)
    combos = [
        (template, brand, variety, pack)
        for template in range(len(shipped))
        for brand in range(len(BRANDS))
        for variety in range(10)
        for pack in range(len(PACKS))
    ]
    if wanted > len(combos):
        raise ValueError(f"at most {len(shipped) + len(combos)} products can be grown")
    serials: dict[str, int] = {}
    for template, brand, variety, pack in rng.sample(combos, wanted):
        base = shipped[template]
        prefix = base.sku.split("-")[0]
        serials[prefix] = serials.get(prefix, 999) + 1
        products.append(
            _variety(base, f"{prefix}-{serials[prefix]:05d}", brand, variety, pack, rng)
        )
    return products


def _variety(
    base: Product, sku: str, brand: int, variety: int, pack: int, rng: random.Random
) -> Product:
    brand_en, brand_he = BRANDS[brand]
    kind_en, kind_he = VARIETIES.get(base.aisle, VARIETIES["party"])[variety]
    pack_en, pack_he, units = PACKS[pack]
    dated = base.shelf_life_days is not None and rng.random() < FRESH_SHARE
    if base.shelf_life_days is not None and not dated:
        kind_en, kind_he = (
            f"{kind_en} {LONG_LIFE[base.aisle][0]}",
            f"{kind_he} {LONG_LIFE[base.aisle][1]}",
        )
    name = " ".join(part for part in (brand_en, base.name, kind_en, pack_en) if part)
    name_he = " ".join(part for part in (base.name_he, kind_he, pack_he, brand_he) if part)
    factor = units * rng.uniform(0.75, 1.4) * (0.85 if units > 1 else 1.0)
    price = max(10, round_cents(Decimal(base.price) * Decimal(str(round(factor, 4)))))
    return dataclasses.replace(
        base,
        sku=sku,
        name=name,
        price=price,
        unit_cost=max(1, round_cents(Decimal(price) / Decimal("1.3"))),
        brand=brand_en,
        name_en=name,
        name_he=name_he,
        box_size=base.box_size,
        shelf_life_days=base.shelf_life_days if dated else None,
    )


def with_demand(products: list[Product], lines_per_day: float) -> Catalog:
    """Each product's share of the order lines (the first the most popular), and the
    stock and min level that share calls for, from `lines_per_day` lines a day."""
    raw = [1.0 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT for rank in range(len(products))]
    total = sum(raw)
    weights = [w / total for w in raw]
    stocked = []
    for product, weight in zip(products, weights, strict=True):
        daily = weight * lines_per_day * 1.6  # 1.6 units a line on average
        if product.shelf_life_days is None:  # a month's sales; more comes at a fifth
            stock = max(24, math.ceil(daily * 45))
            min_level = max(4, math.ceil(daily * 2), stock // 5)
        else:  # fresh: what sells before it expires (at most 3 days), more at half
            days = min(product.shelf_life_days, 3)
            stock = max(2, math.ceil(daily * days))
            min_level = max(1, stock // 2)
        stocked.append(dataclasses.replace(product, stock=stock, min_level=min_level))
    return Catalog(stocked, weights)
