"""The next thing a stock command in plain words must be asked, or its end: `advance`
asks what the draft does not say yet (which action, which product, how many, boxes or
units, the product's own unit), and checks a complete command against the stock as it
is now, asking for a yes before it records anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypedDict

from autogrocery.domain.command_draft import Ask, Draft, Level, Movement, Reply, Status, Stock
from autogrocery.domain.models import MovementType, Product
from autogrocery.domain.phrasebook import listing, name_of, say, unit_name
from autogrocery.domain.search import Rank, best, nearest, search
from autogrocery.domain.vocabulary import MEASURES

MAX_CHOICES = 9
MAX_UNITS = 100_000  # what one command may record


class _Words(TypedDict):
    """What the phrases about a product's stock say of it."""

    name: str
    unit: str
    on_hand: int
    held: int
    expired: int


class _Change(_Words):
    """... and of the change a command makes to it."""

    units: int
    before: int
    after: int


def advance(
    draft: Draft, products: Sequence[Product], stock: Stock, user: str, *, confirmed: bool = False
) -> tuple[Reply, Draft | None]:
    """Ask the next thing the command does not say, or finish it."""
    lang = draft.language
    action = draft.action
    if action is None:
        return ask_back(draft, Ask.ACTION, products, stock)
    if draft.sku is None:
        query = _named(draft)
        hits = search(query, products) if query else []
        if not draft.words and not hits:
            return ask_back(draft, Ask.PRODUCT, products, stock)
        found = [h.product for h in hits if h.rank == hits[0].rank]
        if len(found) > 1 and draft.hints:
            found = best(" ".join(draft.hints), found) or found
        if not hits or hits[0].rank == Rank.FUZZY:  # a typo is asked about, never guessed
            near = found or nearest(query, products)
            if not near:
                return end(Status.FAILED, say(lang, "unknown", words=query), lang)
            return ask_back(draft, Ask.DID_YOU_MEAN, products, stock, choices=near)
        if len(found) > 1:
            return ask_back(draft, Ask.WHICH, products, stock, choices=found)
        draft = replace(draft, sku=found[0].sku)
    product = next((p for p in products if p.sku == draft.sku), None)
    if product is None:
        return end(Status.FAILED, say(lang, "gone", sku=str(draft.sku)), lang)
    if draft.quantity is None:
        key = "how_many_whole" if draft.fraction else "how_many"
        return ask_back(draft, Ask.QUANTITY, products, stock, key=key)
    if draft.boxes and not product.box_size:
        return ask_back(
            replace(draft, quantity=None, boxes=None),
            Ask.QUANTITY,
            products,
            stock,
            key="not_boxed",
        )
    if draft.boxes is None and product.box_size and draft.quantity > 0:
        return ask_back(draft, Ask.UNIT, products, stock)
    if _unit_unsaid(draft, product):
        return ask_back(draft, Ask.MEASURE, products, stock)
    boxed = product.box_size if draft.boxes and product.box_size else 1
    units = draft.quantity * boxed
    return _finish(draft, action, units, product, stock, user, confirmed=confirmed)


def _finish(
    draft: Draft,
    action: MovementType,
    units: int,
    product: Product,
    stock: Stock,
    user: str,
    *,
    confirmed: bool,
) -> tuple[Reply, Draft | None]:
    """Check the command against the stock as it is now; ask for a yes, or record it."""
    lang = draft.language
    level = stock.get(product.sku)
    on_hand = level.on_hand if level else 0
    held = level.reserved if level else 0
    expired = level.expired if level else 0
    free = _free_of(action, level)
    words: _Words = {
        "name": name_of(product, lang),
        "unit": product.unit,
        "on_hand": on_hand,
        "held": held,
        "expired": expired,
    }
    if units > MAX_UNITS:
        return end(Status.FAILED, say(lang, "too_many", units=units, most=MAX_UNITS, **words), lang)
    if action == MovementType.COUNT:
        if units < held:
            return end(Status.FAILED, say(lang, "below_held", units=units, **words), lang)
        if units == on_hand:
            return end(Status.DONE, say(lang, "same", **words), lang)
        delta = units - on_hand
    elif units == 0:
        return end(Status.FAILED, say(lang, "zero"), lang)
    elif action == MovementType.IN:
        delta = units
    else:
        spoilt = expired if action == MovementType.OUT else 0  # expired stock is waste
        if free <= 0:
            key = "nothing_good" if spoilt else "nothing_free"
            return end(Status.FAILED, say(lang, key, **words), lang)
        if units > free:
            key = "short_expired" if spoilt else "short_held" if held else "short"
            reply = Reply(
                Status.QUESTION, say(lang, key, free=free, **words), Ask.SHORT, language=lang
            )
            kept = replace(draft, sku=product.sku, asked=Ask.SHORT, choices=(), offered=free)
            return reply, kept
        delta = -units
    movement = Movement(product.sku, action, delta, draft.text, user)
    change: _Change = {"units": units, "before": on_hand, "after": on_hand + delta, **words}
    if not confirmed:
        text = say(lang, f"confirm_{action.value}", **change)
        reply = Reply(Status.QUESTION, text, Ask.CONFIRM, language=lang, proposal=movement)
        # Units from here on: a yes re-checks this very quantity against the stock then.
        kept = replace(draft, sku=product.sku, quantity=units, boxes=False, measured=True)
        return reply, replace(kept, asked=Ask.CONFIRM, choices=())
    return Reply(Status.DONE, say(lang, action, **change), movement=movement, language=lang), None


def _unit_unsaid(draft: Draft, product: Product) -> bool:
    """A number of a product stocked by a measure, said with no word for that measure."""
    if product.unit not in MEASURES.values() or draft.measured or draft.boxes:
        return False
    return bool(draft.quantity) and product.unit not in {MEASURES.get(h) for h in draft.hints}


def _named(draft: Draft) -> str:
    """What the command calls the product: its words, else the unit it said ("loaves")."""
    return draft.words or " ".join(draft.hints)


def free_units(draft: Draft, stock: Stock) -> int:
    """What the draft's action may take of its product, as the stock is now."""
    return _free_of(draft.action, stock.get(draft.sku or ""))


def _free_of(action: MovementType | None, level: Level | None) -> int:
    """What `action` may take: not what orders hold, and for OUT nothing expired."""
    if level is None:
        return 0
    spoilt = level.expired if action == MovementType.OUT else 0
    return level.on_hand - level.reserved - spoilt


def end(status: Status, text: str, language: str) -> tuple[Reply, Draft | None]:
    """A reply that ends the conversation: no draft is kept."""
    return Reply(status, text, language=language), None


def ask_back(
    draft: Draft,
    ask: Ask,
    products: Sequence[Product],
    stock: Stock,
    *,
    choices: Sequence[Product] = (),
    key: str | None = None,
) -> tuple[Reply, Draft | None]:
    """Ask `ask` about the draft: the question, its numbered choices, and the draft that
    waits for the answer."""
    lang = draft.language
    product = next((p for p in products if p.sku == draft.sku), None)
    name = name_of(product, lang) if product else _named(draft)
    unit = product.unit if product else ""
    shown = list(choices[:MAX_CHOICES])
    if ask == Ask.ACTION:
        what = " ".join(str(x) for x in (draft.quantity, _named(draft)) if x not in (None, ""))
        text = say(lang, "ask_action", what=what)
    elif ask == Ask.PRODUCT:
        text = say(lang, "ask_product")
    elif ask in (Ask.WHICH, Ask.DID_YOU_MEAN):
        on_hand = {p.sku: stock[p.sku].on_hand for p in shown if p.sku in stock}
        listed = listing(shown, lang, on_hand)
        if len(choices) > len(shown):
            listed += "; " + say(lang, "more", count=len(choices) - len(shown))
        text = say(
            lang,
            "which" if ask == Ask.WHICH else "did_you_mean",
            words=_named(draft),
            choices=listed,
        )
    elif ask == Ask.QUANTITY:
        text = say(lang, key or "how_many", name=name, unit=unit)
    elif ask == Ask.MEASURE:
        one = unit_name(unit, 1, lang)
        text = say(lang, "measure", name=name, unit=unit, one=one, quantity=draft.quantity or 0)
    else:  # UNIT (SHORT and CONFIRM are asked by _finish)
        box = product.box_size if product and product.box_size else 1
        quantity = draft.quantity or 0
        text = say(
            lang,
            "boxes_or_units",
            name=name,
            box=box,
            quantity=quantity,
            total=quantity * box,
            unit=unit,
        )
    kept = replace(draft, asked=ask, choices=tuple(p.sku for p in shown))
    return Reply(Status.QUESTION, text, ask, tuple(shown), language=lang), kept
