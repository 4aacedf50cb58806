"""Reading JSON request bodies into their typed models: media type, size, syntax and
shape, every failure a 4xx that names the field."""

from __future__ import annotations

import asyncio
import codecs
import re
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
import orjson
from aiohttp import web

from autogrocery.api.core import BODY, CONNECTION_LIMITS
from autogrocery.api.problems import (
    ClientGone,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from autogrocery.contract.base import MONEY_IN_PATTERN, MONEY_PATTERN
from autogrocery.domain.errors import ValidationError

MAX_BODY = 64 * 1024
T = TypeVar("T")

_decoders: dict[type, msgspec.json.Decoder[Any]] = {}

_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<name>.*)`$")
_JSON_NAMES = {
    "int": "an integer",
    "str": "a string",
    "array": "an array",
    "object": "an object",
    "bool": "a boolean",
    "float": "a number",
    "null": "null",
}
_BOUND = re.compile(r"^Expected `(?P<kind>\w+)`(?: of length)? (?P<op>[<>]=?) (?P<limit>-?\d+)$")
_PATTERNS = {
    MONEY_PATTERN: 'must be an amount with two decimal places, like "12.40"',
    MONEY_IN_PATTERN: 'must be an amount like "12.40": digits 0-9, at most 9 before the point '
    "and 2 after",
}
# JSON is Unicode; a body sent in one of these is decoded (to UTF-8), any other is 415.
UNICODE_CHARSETS = {
    "utf-8",
    "ascii",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "utf-32-le",
    "utf-32-be",
}


async def read_body(request: web.Request, model: type[T]) -> T:
    """The body decoded into `model`; raw bytes (as UTF-8) are read once and kept for
    Idempotency-Key hashing. The whole body must arrive within `api.body_timeout`."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"send Content-Type: application/json, not {request.content_type or 'nothing'}"
        )
    charset = _charset(request.charset)
    raw = request[BODY] = await read_raw(request)
    if charset != "utf-8":
        try:
            raw = raw.decode(charset).encode("utf-8")
        except UnicodeError:
            raise ValidationError(
                f"the body is not valid {charset}",
                [{"field": "body", "message": f"not valid {charset}"}],
            ) from None
    body = decode(raw, model)
    request[BODY] = raw
    return body


async def read_raw(request: web.Request) -> bytes:
    """The body's bytes: at most 64 KiB (413), whole within `api.body_timeout` (408); a
    client that hangs up mid-body is its own doing (499, one INFO line)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PayloadTooLarge("the body is larger than 64 KiB")
    timeout = request.app[CONNECTION_LIMITS].body_timeout
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge("the body is larger than 64 KiB") from None
    except TimeoutError:
        raise RequestTimeout(f"the body did not arrive within {timeout:g} s") from None
    except ConnectionResetError:  # the client hung up mid-body: its doing, not ours
        raise ClientGone("the client closed the connection before the body arrived") from None


def _charset(given: str | None) -> str:
    """The body's Unicode encoding (Python's name for it); 415 for any other."""
    if not given:
        return "utf-8"
    try:
        name = codecs.lookup(given).name
    except LookupError:
        name = ""
    if name not in UNICODE_CHARSETS:
        raise UnsupportedMediaType(f"charset {given} is not supported: send UTF-8")
    return "utf-8" if name == "ascii" else name


def decode(raw: bytes, model: type[T]) -> T:
    decoder = _decoders.get(model)
    if decoder is None:
        decoder = _decoders[model] = msgspec.json.Decoder(model)
    try:
        return decoder.decode(raw)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        field, message = explain(str(exc), model)
        errors = [{"field": field, "message": message}, *_top_level(raw, model, field)]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ValidationError(detail, errors) from None
    except msgspec.DecodeError as exc:
        reason = str(exc) if raw else "the body is empty"
        raise ValidationError(
            f"the body is not valid JSON: {reason}",
            [{"field": "body", "message": "not valid JSON"}],
        ) from None


def _top_level(raw: bytes, model: type, named: str) -> list[dict[str, str]]:
    """msgspec stops at the first problem; the body's other top-level fields that are
    unknown or missing are named too, as a client fixing its body wants them all."""
    info = mi.type_info(model)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(info, mi.StructType) or not isinstance(body, dict):
        return []
    known = {f.encode_name for f in info.fields}
    missing = [f.encode_name for f in info.fields if f.required and f.encode_name not in body]
    found = [(name, "unknown field") for name in body if name not in known]
    found += [(name, "required") for name in missing]
    return [{"field": name, "message": what} for name, what in found if name != named]


def explain(error: str, model: type) -> tuple[str, str]:
    """msgspec's "Expected `int`, got `str` - at `$.items[0].quantity`" as a field path
    and a message in the API's words: ("items[0].quantity", "must be an integer")."""
    match = _AT.match(error)
    problem = match["problem"] if match else error
    path = (match["path"] if match and match["path"] else "").lstrip(".")
    named = _FIELD.match(problem)
    if named:
        field = f"{path}.{named['name']}" if path else named["name"]
        return field, "required" if named["what"] == "missing required" else "unknown field"
    if problem.startswith("Invalid enum value "):
        allowed = ", ".join(str(v) for v in sorted(_allowed(model, path), key=str))
        return path, f"must be one of {allowed}"
    return path or "body", _message(problem)


def _allowed(model: type, path: str) -> tuple[object, ...]:
    """The values a Literal field at `path` (e.g. "items[0].reason") may take."""
    info: mi.Type | None = mi.type_info(model)
    for part in re.findall(r"[^.\[\]]+", path):
        info = _unwrap(info)
        if isinstance(info, mi.StructType):
            info = next((f.type for f in info.fields if f.encode_name == part), None)
        elif isinstance(info, mi.ListType):
            info = info.item_type
    info = _unwrap(info)
    return info.values if isinstance(info, mi.LiteralType) else ()


def _unwrap(info: mi.Type | None) -> mi.Type | None:
    while isinstance(info, mi.Metadata | mi.UnionType):
        if isinstance(info, mi.Metadata):
            info = info.type
        else:
            info = next((t for t in info.types if not isinstance(t, mi.NoneType)), None)
    return info


def _message(problem: str) -> str:
    if problem.startswith("Expected `") and ", got `" in problem:
        wanted = problem.split("`")[1]
        return f"must be {_JSON_NAMES.get(wanted, wanted)}"
    bound = _BOUND.match(problem)
    if bound:
        kind, op, limit = bound["kind"], bound["op"], bound["limit"]
        words = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}[op]
        unit = {"str": " characters", "array": " items", "object": " fields"}.get(kind, "")
        return f"must be {words} {limit}{unit}"
    if problem.startswith("Expected `str` matching regex "):
        pattern = problem.split("'", 1)[1].rsplit("'", 1)[0].replace("\\\\", "\\")
        return _PATTERNS.get(pattern, f"must match {pattern}")
    if problem == "Number out of range":
        return "is out of range"
    return problem[:1].lower() + problem[1:]


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


# Replies are the Structs of api/views.py (or plain dicts and lists holding them).
encode_json = msgspec.json.Encoder().encode


def json_response(
    data: object, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=encode_json(data), status=status, content_type="application/json", headers=headers
    )
