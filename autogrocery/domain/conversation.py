"""A stock command in plain words, and the questions it takes to make it exact.

`step(draft, text, products, stock, user)` reads a new command, or the answer to the
question the draft is waiting on, and returns a `Reply` and the draft to keep (None
when the conversation is over). It asks back exactly when needed: which action; no
product matches ("did you mean …", the nearest ones); several match (which one, by
number or by name); how many; boxes or units, for a product delivered in boxes; the
product's own unit, when it is stocked by the kg or the dozen and the command did not
say so ("took 10 onions": 10 kg?); and
"only 2 on hand; set to 0?" when taking more than there is. With nothing left to ask,
it says what it would record and asks for a yes: only a confirmed command yields a
`Movement` (a yes to "set to 0?" is that confirmation). `cancel` or "no" ends any
question.

`conversations.Conversations` keeps the open drafts by key for a few minutes. Nothing
here knows about actors: the caller records the movement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from autogrocery.domain.models import MovementType, Product
from autogrocery.domain.phrasebook import listing, name_of, say, unit_name
from autogrocery.domain.plainwords import (
    amount,
    is_cancel,
    is_yes,
    parse,
    plain,
    unit_choice,
)
from autogrocery.domain.search import Rank, best, nearest, search
from autogrocery.domain.vocabulary import MEASURES

MAX_CHOICES = 9
MAX_UNITS = 100_000  # what one command may record
DEFAULT_TTL = 300.0


class Level(Protocol):
    """A product's stock as the caller read it (`StockLevel` is one)."""

    @property
    def on_hand(self) -> int: ...

    @property
    def reserved(self) -> int: ...

    @property
    def expired(self) -> int: ...  # in expired lots: written off as waste, never taken out


class Status(StrEnum):
    QUESTION = "question"  # waiting for an answer
    DONE = "done"  # confirmed: `movement` (or None when nothing changes)
    CANCELLED = "cancelled"
    FAILED = "failed"  # not understood, or not possible; nothing recorded


class Ask(StrEnum):
    ACTION = "action"
    PRODUCT = "product"
    DID_YOU_MEAN = "did_you_mean"
    WHICH = "which"
    QUANTITY = "quantity"
    UNIT = "unit"
    MEASURE = "measure"  # is the number in the product's unit (kg, dozen)?
    SHORT = "short"
    CONFIRM = "confirm"  # record `Reply.proposal`?


@dataclass(frozen=True, slots=True)
class Movement:
    """What to record: `delta` is signed (OUT and WASTE take stock away)."""

    sku: str
    type: MovementType
    delta: int
    note: str  # the command as the operator typed it
    user: str


@dataclass(frozen=True, slots=True)
class Reply:
    status: Status
    text: str
    ask: Ask | None = None
    choices: tuple[Product, ...] = ()  # numbered from 1, for WHICH and DID_YOU_MEAN
    movement: Movement | None = None  # recorded: the caller writes it
    language: str = "en"
    proposal: Movement | None = None  # what a yes to CONFIRM records


@dataclass(frozen=True, slots=True)
class Draft:
    """A command being made exact: what is known, and what was asked."""

    text: str
    language: str
    action: MovementType | None
    quantity: int | None
    boxes: bool | None
    words: str
    hints: tuple[str, ...] = ()
    sku: str | None = None
    asked: Ask | None = None
    choices: tuple[str, ...] = ()
    fraction: bool = False  # the quantity said was not a whole number
    measured: bool = False  # the quantity is in the product's unit: a question said it
    offered: int | None = None  # what "only N on hand; take N?" offered


Stock = Mapping[str, Level]


def step(
    draft: Draft | None,
    text: str,
    products: Sequence[Product],
    stock: Stock,
    user: str,
    *,
    ttl: float = DEFAULT_TTL,
) -> tuple[Reply, Draft | None]:
    command = parse(text)
    if draft is not None:
        if is_cancel(text):
            return _end(Status.CANCELLED, say(draft.language, "cancelled"), draft.language)
        # An answer, unless it is a whole new command ("took 2 tomatoes" instead).
        whole = command.words or command.quantity is not None
        if command.action is None or (draft.asked == Ask.ACTION and not whole):
            return _answer(draft, text, products, stock, user)
    if command.action is None and (command.quantity is None or not command.words):
        lang = command.language
        answer_like = command.quantity is not None or is_yes(text) or is_cancel(text)
        key = "no_open_question" if answer_like else "not_understood"
        return _end(Status.FAILED, say(lang, key, minutes=round(ttl / 60)), lang)
    fresh = Draft(
        text.strip(),
        command.language,
        command.action,
        command.quantity,
        command.boxes,
        command.words,
        command.hints,
        fraction=command.fraction,
    )
    return _advance(fresh, products, stock, user)


def _answer(
    draft: Draft, text: str, products: Sequence[Product], stock: Stock, user: str
) -> tuple[Reply, Draft | None]:
    asked = draft.asked
    if asked == Ask.ACTION:
        action = parse(text).action
        if action is not None:
            return _advance(replace(draft, action=action, asked=None), products, stock, user)
    elif asked == Ask.PRODUCT:
        words = parse(text).words
        if words:
            return _advance(replace(draft, words=words, asked=None), products, stock, user)
    elif asked in (Ask.WHICH, Ask.DID_YOU_MEAN):
        return _pick(draft, text, products, stock, user)
    elif asked == Ask.QUANTITY:
        quantity, boxes = amount(text)
        if quantity is not None:
            boxes = draft.boxes if boxes is None else boxes
            update = replace(draft, quantity=quantity, boxes=boxes, fraction=False)
            return _advance(_answered(update), products, stock, user)
    elif asked == Ask.UNIT:
        boxes = unit_choice(text)
        if boxes is not None:
            return _advance(_answered(replace(draft, boxes=boxes)), products, stock, user)
    elif asked == Ask.MEASURE:
        quantity, boxes = amount(text)
        if is_yes(text):
            quantity, boxes = draft.quantity, False
        if quantity is not None and not boxes:
            return _advance(_answered(replace(draft, quantity=quantity)), products, stock, user)
    elif asked == Ask.SHORT:
        free = _free(draft, stock)
        quantity, _ = amount(text)
        if is_yes(text) and free == draft.offered:  # the yes confirms what was offered
            update = _answered(replace(draft, quantity=free, boxes=False))
            return _advance(update, products, stock, user, confirmed=True)
        if is_yes(text):  # the stock moved since: ask again, on what there is now
            return _advance(replace(draft, asked=None), products, stock, user)
        if quantity is not None and 0 < quantity <= free:
            update = _answered(replace(draft, quantity=quantity, boxes=False))
            return _advance(update, products, stock, user)
    elif asked == Ask.CONFIRM and is_yes(text):
        return _advance(replace(draft, asked=None), products, stock, user, confirmed=True)
    reply, kept = _advance(replace(draft, asked=None), products, stock, user)
    return replace(reply, text=say(draft.language, "sorry") + reply.text), kept


def _pick(
    draft: Draft, text: str, products: Sequence[Product], stock: Stock, user: str
) -> tuple[Reply, Draft | None]:
    """An answer to "which one?": a number, a yes to a single suggestion, or words."""
    offered = [p for sku in draft.choices for p in products if p.sku == sku]
    said = plain(text)
    chosen: list[Product] = []
    if said.isdecimal() and 1 <= int(said) <= len(offered):
        chosen = [offered[int(said) - 1]]
    elif is_yes(text) and len(offered) == 1:
        chosen = offered
    elif said:  # a name, or a number in one ("3%"); another product only by name
        chosen = best(said, offered) or ([] if said.isdecimal() else best(said, products))
    if len(chosen) == 1:
        return _advance(replace(draft, sku=chosen[0].sku, asked=None), products, stock, user)
    if len(chosen) > 1:
        return _ask(replace(draft, words=said), Ask.WHICH, products, stock, choices=chosen)
    reply, kept = _ask(draft, draft.asked or Ask.WHICH, products, stock, choices=offered)
    return replace(reply, text=say(draft.language, "sorry") + reply.text), kept


def _advance(
    draft: Draft, products: Sequence[Product], stock: Stock, user: str, *, confirmed: bool = False
) -> tuple[Reply, Draft | None]:
    """Ask the next thing the command does not say, or finish it."""
    lang = draft.language
    if draft.action is None:
        return _ask(draft, Ask.ACTION, products, stock)
    if draft.sku is None:
        query = _named(draft)
        hits = search(query, products) if query else []
        if not draft.words and not hits:
            return _ask(draft, Ask.PRODUCT, products, stock)
        found = [h.product for h in hits if h.rank == hits[0].rank]
        if len(found) > 1 and draft.hints:
            found = best(" ".join(draft.hints), found) or found
        if not hits or hits[0].rank == Rank.FUZZY:  # a typo is asked about, never guessed
            near = found or nearest(query, products)
            if not near:
                return _end(Status.FAILED, say(lang, "unknown", words=query), lang)
            return _ask(draft, Ask.DID_YOU_MEAN, products, stock, choices=near)
        if len(found) > 1:
            return _ask(draft, Ask.WHICH, products, stock, choices=found)
        draft = replace(draft, sku=found[0].sku)
    product = next((p for p in products if p.sku == draft.sku), None)
    if product is None:
        return _end(Status.FAILED, say(lang, "gone", sku=draft.sku), lang)
    if draft.quantity is None:
        key = "how_many_whole" if draft.fraction else "how_many"
        return _ask(draft, Ask.QUANTITY, products, stock, key=key)
    if draft.boxes and not product.box_size:
        return _ask(
            replace(draft, quantity=None, boxes=None),
            Ask.QUANTITY,
            products,
            stock,
            key="not_boxed",
        )
    if draft.boxes is None and product.box_size and draft.quantity > 0:
        return _ask(draft, Ask.UNIT, products, stock)
    if _unit_unsaid(draft, product):
        return _ask(draft, Ask.MEASURE, products, stock)
    boxed = product.box_size if draft.boxes and product.box_size else 1
    units = draft.quantity * boxed
    return _finish(draft, draft.action, units, product, stock, user, confirmed=confirmed)


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
    words = {
        "name": name_of(product, lang),
        "unit": product.unit,
        "on_hand": on_hand,
        "held": held,
        "expired": expired,
    }
    if units > MAX_UNITS:
        return _end(
            Status.FAILED, say(lang, "too_many", units=units, most=MAX_UNITS, **words), lang
        )
    if action == MovementType.COUNT:
        if units < held:
            return _end(Status.FAILED, say(lang, "below_held", units=units, **words), lang)
        if units == on_hand:
            return _end(Status.DONE, say(lang, "same", **words), lang)
        delta = units - on_hand
    elif units == 0:
        return _end(Status.FAILED, say(lang, "zero"), lang)
    elif action == MovementType.IN:
        delta = units
    else:
        spoilt = expired if action == MovementType.OUT else 0  # expired stock is waste
        if free <= 0:
            key = "nothing_good" if spoilt else "nothing_free"
            return _end(Status.FAILED, say(lang, key, **words), lang)
        if units > free:
            key = "short_expired" if spoilt else "short_held" if held else "short"
            reply = Reply(
                Status.QUESTION, say(lang, key, free=free, **words), Ask.SHORT, language=lang
            )
            kept = replace(draft, sku=product.sku, asked=Ask.SHORT, choices=(), offered=free)
            return reply, kept
        delta = -units
    movement = Movement(product.sku, action, delta, draft.text, user)
    change = {"units": units, "before": on_hand, "after": on_hand + delta, **words}
    if not confirmed:
        text = say(lang, f"confirm_{action.value}", **change)
        reply = Reply(Status.QUESTION, text, Ask.CONFIRM, language=lang, proposal=movement)
        # Units from here on: a yes re-checks this very quantity against the stock then.
        kept = replace(draft, sku=product.sku, quantity=units, boxes=False, measured=True)
        return reply, replace(kept, asked=Ask.CONFIRM, choices=())
    return Reply(Status.DONE, say(lang, action, **change), movement=movement, language=lang), None


def _answered(draft: Draft) -> Draft:
    """The draft after an answer to a question that named the product's unit."""
    return replace(draft, asked=None, measured=True)


def _unit_unsaid(draft: Draft, product: Product) -> bool:
    """A number of a product stocked by a measure, said with no word for that measure."""
    if product.unit not in MEASURES.values() or draft.measured or draft.boxes:
        return False
    return bool(draft.quantity) and product.unit not in {MEASURES.get(h) for h in draft.hints}


def _named(draft: Draft) -> str:
    """What the command calls the product: its words, else the unit it said ("loaves")."""
    return draft.words or " ".join(draft.hints)


def _free(draft: Draft, stock: Stock) -> int:
    return _free_of(draft.action, stock.get(draft.sku or ""))


def _free_of(action: MovementType | None, level: Level | None) -> int:
    """What `action` may take: not what orders hold, and for OUT nothing expired."""
    if level is None:
        return 0
    spoilt = level.expired if action == MovementType.OUT else 0
    return level.on_hand - level.reserved - spoilt


def _end(status: Status, text: str, language: str) -> tuple[Reply, Draft | None]:
    return Reply(status, text, language=language), None


def _ask(
    draft: Draft,
    ask: Ask,
    products: Sequence[Product],
    stock: Stock,
    *,
    choices: Sequence[Product] = (),
    key: str | None = None,
) -> tuple[Reply, Draft | None]:
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
