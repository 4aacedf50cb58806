"""Bodies of stock commands in plain words (routes_commands.py): what was typed, and the
reply: a question to answer, or the movement recorded."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from autogrocery.contract.base import Body, Request, Timestamp
from autogrocery.contract.stock import InventoryItem, MovementType

CONVERSATION_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"


# --- requests ---------------------------------------------------------------------------


class CommandRequest(Request):
    text: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=300,
            description="What happened to the stock, in plain words (English or Hebrew), or "
            "the answer to the conversation's last question.",
            examples=["took 3 small cola", "2", "לקחתי 3 קולה קטן"],
        ),
    ]
    conversation_id: (
        Annotated[
            str,
            Meta(
                pattern=CONVERSATION_PATTERN,
                description="The conversation to continue (from an earlier reply); leave "
                "it out to start one.",
            ),
        ]
        | UnsetType
    ) = UNSET


# --- responses --------------------------------------------------------------------------


class CommandChoice(Body):
    number: Annotated[int, Meta(ge=1, description="Answer with it (or with the name).")]
    sku: str
    name: Annotated[str, Meta(description="In the language of the command.")]
    on_hand: int


class CommandMovement(Body):
    sku: str
    type: MovementType
    delta: Annotated[int, Meta(description="Negative for OUT and WASTE, positive for IN.")]
    note: Annotated[str, Meta(description="The command as typed.")]


class CommandReply(Body):
    conversation_id: Annotated[str, Meta(pattern=CONVERSATION_PATTERN)]
    status: Annotated[
        Literal["question", "done", "cancelled", "failed"],
        Meta(
            description="question: answer it in this conversation; done: recorded (or "
            "nothing to change); cancelled or failed: nothing recorded."
        ),
    ]
    text: Annotated[str, Meta(description="The reply, in the language of the command.")]
    language: Literal["en", "he"]
    question: Annotated[
        Literal[
            "action",
            "product",
            "did_you_mean",
            "which",
            "quantity",
            "unit",
            "measure",
            "short",
            "confirm",
        ]
        | None,
        Meta(
            description="What is asked: the action (took, threw away, counted, got); the "
            "product; did you mean one of `choices` (nothing matched); which of `choices` "
            "(several matched); how many; boxes or units; measure: is the number in the "
            "product's unit (kg, dozen) when the command did not say; take what there is "
            "(not enough on hand, a yes records it); confirm: record `proposal`? (yes or no)."
        ),
    ]
    choices: list[CommandChoice]
    movement: Annotated[
        CommandMovement | None,
        Meta(description="The movement recorded, with the caller as its user."),
    ]
    proposal: Annotated[
        CommandMovement | None,
        Meta(description="With `question` confirm: what a yes records (nothing is yet)."),
    ]
    product: Annotated[
        InventoryItem | None, Meta(description="The product's levels after the movement.")
    ]
    expires_at: Annotated[
        Timestamp | None, Meta(description="Until when the question waits for an answer.")
    ]
