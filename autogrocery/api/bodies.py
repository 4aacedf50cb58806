"""Reading JSON request bodies: media type, size, syntax and shape, all as 4xx."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from autogrocery.api.context import BODY
from autogrocery.api.problems import PayloadTooLarge, UnsupportedMediaType
from autogrocery.domain.errors import ValidationError

MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = True
    nullable: bool = False


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "integer", str: "string", list: "array", dict: "object", bool: "boolean"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


async def read_json(request: web.Request, fields: Mapping[str, Field]) -> dict[str, Any]:
    """The body as an object with exactly `fields`; raw bytes are read once."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"send Content-Type: application/json, not {request.content_type or 'nothing'}"
        )
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PayloadTooLarge("the body is larger than 64 KiB")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge("the body is larger than 64 KiB") from None
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(
            "the body must be a JSON object", [{"field": "body", "message": "not an object"}]
        )
    check_fields(data, fields)
    request[BODY] = raw
    return data


def check_fields(data: Mapping[str, Any], fields: Mapping[str, Field], prefix: str = "") -> None:
    errors: list[dict[str, str]] = [
        {"field": prefix + name, "message": "unknown field"} for name in data if name not in fields
    ]
    for name, spec in fields.items():
        if name not in data:
            if spec.required:
                errors.append({"field": prefix + name, "message": "required"})
            continue
        value = data[name]
        if value is None and spec.nullable:
            continue
        wrong_bool = isinstance(value, bool) and bool not in (
            spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
        )
        if not isinstance(value, spec.kind) or wrong_bool:
            errors.append({"field": prefix + name, "message": f"must be {_type_name(spec.kind)}"})
    if errors:
        raise ValidationError(f"{errors[0]['field']}: {errors[0]['message']}", errors)


def query_int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
        if abs(value) > 2**53:
            raise ValueError(raw)
        return value
    except ValueError:
        raise ValidationError(
            f"{name} must be an integer", [{"field": name, "message": "not an integer"}]
        ) from None


def query_cursor(request: web.Request) -> int | None:
    raw = request.query.get("cursor")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ValidationError(
            "cursor is not one this server gave out", [{"field": "cursor", "message": "invalid"}]
        )
    return int(raw)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )
