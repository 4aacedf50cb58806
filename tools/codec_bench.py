"""Per-request cost of the API's body handling: decode + validate a 3-line preview body,
and encode an order view; and, for the choice of msgspec, the same preview body decoded
and validated by an equivalent pydantic v2 model (pydantic comes with the test extras,
through openapi-spec-validator). Not a test (it asserts nothing); run it to compare:

    python -m tools.codec_bench
"""

from __future__ import annotations

import timeit

import orjson

from autogrocery.api.bodies import decode
from autogrocery.contract.orders import PreviewRequest

RAW = orjson.dumps(
    {
        "items": [
            {"sku": "BRD-001", "quantity": 2},
            {"sku": "DAI-001", "quantity": 1},
            {"sku": "PRO-004", "quantity": 3},
        ]
    }
)
ORDER = {
    "order_id": "ord_0123456789abcdef0123",
    "kind": "CUSTOMER",
    "status": "PREVIEWED",
    "items": [
        {
            "sku": f"BRD-00{i}",
            "name": "Sourdough loaf",
            "aisle": "bread",
            "quantity": 2,
            "unit_price": "4.10",
            "line_total": "8.20",
        }
        for i in range(3)
    ],
    "total": "24.60",
    "created_at": "2024-05-01T12:00:00.000Z",
    "confirmed_at": None,
    "completed_at": None,
    "latency_ms": None,
    "expires_at": "2024-05-01T12:10:00.000Z",
}


def preview_body() -> list[dict[str, object]]:
    """What the preview handler does with a body before it asks the store."""
    body = decode(RAW, PreviewRequest)
    return [{"sku": line.sku, "quantity": line.quantity} for line in body.items]


def pydantic_preview_body() -> object:
    """The same body through pydantic v2: the alternative the schema issue named."""
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field

    class Line(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        sku: Annotated[str, Field(min_length=1, max_length=200)]
        quantity: Annotated[int, Field(ge=1)]

    class Preview(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        items: Annotated[list[Line], Field(min_length=1)]

    def run() -> list[dict[str, object]]:
        body = Preview.model_validate_json(RAW)
        return [{"sku": line.sku, "quantity": line.quantity} for line in body.items]

    return run


def best(fn: object, number: int = 20_000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=7)) / number  # type: ignore[arg-type]


def main() -> None:
    decoding, encoding = best(preview_body), best(lambda: orjson.dumps(ORDER))
    print(f"decode+validate preview (3 lines): {decoding * 1e6:.2f} µs")
    print(f"encode order view:                 {encoding * 1e6:.2f} µs")
    print(f"per request:                       {(decoding + encoding) * 1e6:.2f} µs")
    pydantic = best(pydantic_preview_body())
    print(f"same preview, pydantic v2:         {pydantic * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
