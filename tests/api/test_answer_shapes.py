"""The answers the API sends as the service gives them (TypedDicts: the reports, the
books, the analytics summary) have the keys and types its document declares for them
(the contract's Structs), so a key added, renamed or retyped on one side only fails
here and not in a client that decodes the answer strictly (the dashboards do)."""

from __future__ import annotations

import types
import typing

import msgspec
import pytest

from autogrocery.contract import markdowns, ops
from autogrocery.domain.messages import analytics
from autogrocery.service import answers

PAIRS: list[tuple[type, type]] = [
    (answers.SkuUsage, ops.SkuUsage),
    (answers.UsageReport, ops.UsageReport),
    (answers.SkuWaste, ops.SkuWaste),
    (answers.WasteReport, ops.WasteReport),
    (answers.MarkedDownWaste, markdowns.MarkedDownWaste),
    (answers.UnmarkedWaste, markdowns.UnmarkedWaste),
    (answers.MarkdownEffect, markdowns.MarkdownEffect),
    (answers.ReorderSuggestion, ops.ReorderSuggestion),
    (answers.ReorderReport, ops.ReorderReport),
    (answers.SkuCheck, ops.LedgerCheck),
    (answers.Reconciliation, ops.Reconciliation),
    (analytics.Latencies, ops.Latency),
    (analytics.KindSummary, ops.KindAnalytics),
    (analytics.Summary, ops.Analytics),
]
STRUCT_OF = {given: declared for given, declared in PAIRS}
ANY_STRUCT = "dict[str, object]"  # a row the service does not type further (usage's days)


def shape(hint: object) -> str:
    """A type as text, without its documentation (Annotated), UNSET or the TypedDicts'
    own names (each is its Struct's)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return shape(args[0])
    if origin in (typing.Union, types.UnionType):
        parts = [shape(arg) for arg in args if arg is not msgspec.UnsetType]
        return " | ".join(sorted(parts))
    if origin is list:
        return f"list[{shape(args[0])}]"
    if origin is dict:
        return f"dict[{shape(args[0])}, {shape(args[1])}]"
    if hint is type(None):
        return "None"
    if isinstance(hint, type):
        return STRUCT_OF.get(hint, hint).__name__
    return repr(hint)


@pytest.mark.parametrize(("given", "declared"), PAIRS, ids=lambda t: t.__name__)
def test_an_answer_has_the_keys_and_types_its_document_declares(
    given: type, declared: type
) -> None:
    hints = typing.get_type_hints(given)
    fields = {
        field.encode_name: field
        for field in msgspec.structs.fields(declared)  # type: ignore[arg-type]
    }
    assert sorted(hints) == sorted(fields)
    for key, field in fields.items():
        said, documented = shape(hints[key]), shape(field.type)
        if said == ANY_STRUCT or said == f"list[{ANY_STRUCT}]":
            assert documented.startswith("list[") or documented[:1].isupper(), key
            continue
        assert said == documented, key
