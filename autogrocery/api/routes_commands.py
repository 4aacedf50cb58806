"""POST /api/ops/commands: stock commands in plain words, and the questions they take.

A thin layer over `domain.command_dialogue`: the open conversations live in this process
(by operator and conversation id, a few minutes each); the products are the stock
actor's levels described by the catalog, searched with their index
(`System.described`); a command the operator confirmed is recorded with
`System.adjust_stock` as one movement, the operator its user and the command as typed
its note.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from autogrocery.api import views
from autogrocery.api.bodies import json_response
from autogrocery.api.openapi import Operation, Reply, documented
from autogrocery.api.state import CALLER, state
from autogrocery.contract.commands import (
    CommandChoice,
    CommandMovement,
    CommandReply,
    CommandRequest,
)
from autogrocery.domain.command_draft import Movement
from autogrocery.domain.command_draft import Reply as Said
from autogrocery.domain.models import new_id, rfc3339
from autogrocery.domain.phrasebook import name_of
from autogrocery.domain.records import StockLevel

routes = web.RouteTableDef()


@routes.post("/api/ops/commands")
@documented(
    Operation(
        "runStockCommand",
        "Record stock in plain words",
        "ops",
        roles=("operator",),
        body=CommandRequest,
        replies=(Reply(200, "A question to answer, or what was recorded.", CommandReply),),
        problems=(409, 503),
        description='Say what happened: "took 3 small cola", "threw away 2 milk", '
        '"counted 40 eggs", "got 5 boxes of cola cans" (or in Hebrew: "לקחתי 3 קולה '
        'קטן"). The store asks back when it must (which product, did you mean, how many, '
        "boxes or units, take what there is); answer with the same `conversation_id`, or "
        'say "cancel". Once nothing is left to ask, it says what it would record '
        "(`proposal`) and asks for a yes: only a confirmed command records a movement "
        "(OUT, WASTE, COUNT or IN; yours, with the command as its note), checked against "
        "the stock at the yes. A question waits 5 minutes. 409 when the stock changed "
        "under it and on_hand would fall below reserved.",
    )
)
async def command(request: web.Request, body: CommandRequest) -> web.Response:
    api = state(request)
    caller = request[CALLER]
    conversation = body.conversation_id or new_id("cnv")
    key = (caller.user_id, conversation)
    levels = await api.system.levels()
    products = await api.system.described.products()  # indexed: searched, not scanned
    stock = {level.sku: level for level in levels}
    # Off the loop: matching words against a large catalog is CPU work.
    said = await asyncio.to_thread(
        api.conversations.say, key, body.text, products, stock, caller.username
    )
    recorded = None
    if said.movement is not None:
        move = said.movement
        recorded = await api.system.adjust_stock(
            move.sku, move.delta, move.type.value, move.note, move.user
        )
    deadline = api.conversations.deadline(key)
    expires = None
    if deadline is not None:
        expires = rfc3339(time.time() + deadline - api.conversations.clock())
    return json_response(_view(conversation, said, recorded, expires))


def _view(
    conversation: str, said: Said, recorded: StockLevel | None, expires: str | None
) -> CommandReply:
    return CommandReply(
        conversation_id=conversation,
        status=said.status.value,
        text=said.text,
        language=said.language,  # type: ignore[arg-type]  # the phrasebook's: en or he
        question=said.ask.value if said.ask else None,
        choices=[
            CommandChoice(number=n, sku=p.sku, name=name_of(p, said.language), on_hand=p.stock)
            for n, p in enumerate(said.choices, 1)
        ],
        movement=_movement(said.movement),
        proposal=_movement(said.proposal),
        product=views.inventory_item(recorded) if recorded is not None else None,
        expires_at=expires,
    )


def _movement(move: Movement | None) -> CommandMovement | None:
    if move is None:
        return None
    return CommandMovement(
        sku=move.sku,
        type=move.type.value,  # type: ignore[arg-type]  # the StrEnum's values are the Literal's
        delta=move.delta,
        note=move.note,
    )
