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

`command_questions` chooses the next question, `command_draft` holds the records, and
`open_conversations.Conversations` keeps the open drafts by key for a few minutes.
Nothing here knows about actors: the caller records the movement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from autogrocery.domain.command_draft import Ask, Draft, Reply, Status, Stock
from autogrocery.domain.command_questions import advance, ask_back, end, free_units
from autogrocery.domain.models import Product
from autogrocery.domain.phrasebook import say
from autogrocery.domain.plainwords import (
    amount,
    is_cancel,
    is_yes,
    parse,
    plain,
    unit_choice,
)
from autogrocery.domain.search import best

DEFAULT_TTL = 300.0


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
            return end(Status.CANCELLED, say(draft.language, "cancelled"), draft.language)
        # An answer, unless it is a whole new command ("took 2 tomatoes" instead).
        whole = command.words or command.quantity is not None
        if command.action is None or (draft.asked == Ask.ACTION and not whole):
            return _answer(draft, text, products, stock, user)
    if command.action is None and (command.quantity is None or not command.words):
        lang = command.language
        answer_like = command.quantity is not None or is_yes(text) or is_cancel(text)
        key = "no_open_question" if answer_like else "not_understood"
        return end(Status.FAILED, say(lang, key, minutes=round(ttl / 60)), lang)
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
    return advance(fresh, products, stock, user)


def _answer(
    draft: Draft, text: str, products: Sequence[Product], stock: Stock, user: str
) -> tuple[Reply, Draft | None]:
    asked = draft.asked
    if asked == Ask.ACTION:
        action = parse(text).action
        if action is not None:
            return advance(replace(draft, action=action, asked=None), products, stock, user)
    elif asked == Ask.PRODUCT:
        words = parse(text).words
        if words:
            return advance(replace(draft, words=words, asked=None), products, stock, user)
    elif asked in (Ask.WHICH, Ask.DID_YOU_MEAN):
        return _pick(draft, text, products, stock, user)
    elif asked == Ask.QUANTITY:
        quantity, boxes = amount(text)
        if quantity is not None:
            boxes = draft.boxes if boxes is None else boxes
            update = replace(draft, quantity=quantity, boxes=boxes, fraction=False)
            return advance(_answered(update), products, stock, user)
    elif asked == Ask.UNIT:
        boxes = unit_choice(text)
        if boxes is not None:
            return advance(_answered(replace(draft, boxes=boxes)), products, stock, user)
    elif asked == Ask.MEASURE:
        quantity, boxes = amount(text)
        if is_yes(text):
            quantity, boxes = draft.quantity, False
        if quantity is not None and not boxes:
            return advance(_answered(replace(draft, quantity=quantity)), products, stock, user)
    elif asked == Ask.SHORT:
        free = free_units(draft, stock)
        quantity, _ = amount(text)
        if is_yes(text) and free == draft.offered:  # the yes confirms what was offered
            update = _answered(replace(draft, quantity=free, boxes=False))
            return advance(update, products, stock, user, confirmed=True)
        if is_yes(text):  # the stock moved since: ask again, on what there is now
            return advance(replace(draft, asked=None), products, stock, user)
        if quantity is not None and 0 < quantity <= free:
            update = _answered(replace(draft, quantity=quantity, boxes=False))
            return advance(update, products, stock, user)
    elif asked == Ask.CONFIRM and is_yes(text):
        return advance(replace(draft, asked=None), products, stock, user, confirmed=True)
    reply, kept = advance(replace(draft, asked=None), products, stock, user)
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
        return advance(replace(draft, sku=chosen[0].sku, asked=None), products, stock, user)
    if len(chosen) > 1:
        return ask_back(replace(draft, words=said), Ask.WHICH, products, stock, choices=chosen)
    reply, kept = ask_back(draft, draft.asked or Ask.WHICH, products, stock, choices=offered)
    return replace(reply, text=say(draft.language, "sorry") + reply.text), kept


def _answered(draft: Draft) -> Draft:
    """The draft after an answer to a question that named the product's unit."""
    return replace(draft, asked=None, measured=True)
