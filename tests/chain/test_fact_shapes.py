"""The facts a store writes to its outbox (store/chain_tables.py, as TypedDicts: the
store knows no msgspec) have exactly the fields and types the relay decodes them as
(chain/protocol.py's Structs): a field added or retyped on one side only fails here,
not in a head office that cannot decode a store's events."""

from __future__ import annotations

import typing

import msgspec
import pytest

from autogrocery.chain import protocol
from autogrocery.store import chain_tables

PAIRS = [
    (chain_tables.MovementFact, protocol.Movement),
    (chain_tables.LevelFact, protocol.Level),
    (chain_tables.OrderEndFact, protocol.OrderEnd),
    (chain_tables.ShipLineFact, protocol.ShipLine),
    (chain_tables.ShipmentFact, protocol.Shipment),
    (chain_tables.ReceiptLineFact, protocol.ReceiptLine),
    (chain_tables.ReceiptFact, protocol.Receipt),
    (chain_tables.Facts, protocol.Facts),
]
WRITTEN_AS = {  # the written shape's name for the Struct a list or field holds
    written.__name__: struct.__name__ for written, struct in PAIRS
}


def _name(hint: object) -> str:
    """A type as text, the TypedDicts' names written as their Structs' (an optional
    Struct field with a default is the TypedDict's key that may be left out)."""
    text = typing_text(hint)
    for written, struct in WRITTEN_AS.items():
        text = text.replace(written, struct)
    return text


def typing_text(hint: object) -> str:
    if isinstance(hint, type):  # a class: `int`, not "<class 'int'>"
        return hint.__name__
    return repr(hint).replace("typing.", "").replace("autogrocery.store.chain_tables.", "")


@pytest.mark.parametrize(("written", "struct"), PAIRS, ids=lambda t: t.__name__)
def test_a_fact_is_written_with_the_fields_it_is_read_with(written: type, struct: type) -> None:
    hints = typing.get_type_hints(written)
    fields = {
        field.name: field
        for field in msgspec.structs.fields(struct)  # type: ignore[arg-type]
    }
    assert list(hints) == list(fields)
    for name, field in fields.items():
        declared = _name(hints[name])
        read = _name(field.type).replace("autogrocery.chain.protocol.", "")
        if field.required:
            assert declared == read, name
        else:  # read with a default: the writer may leave it out or write what it reads
            assert declared in (read, read.removesuffix(" | None")), name
