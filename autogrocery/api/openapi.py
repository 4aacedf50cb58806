"""The OpenAPI 3.1 document, generated at start-up from the routes and the typed models.

Each handler declares its operation with `@documented(Operation(...))`: summary, roles,
request model, replies. The request model is also what decodes the body (the handler
gets it as its second argument), so what is documented is what is enforced. Statuses
that follow from the declaration are added here: 401/403 from roles; 400/408/413/415 from
a body; 400/422 and the Idempotency-Key header from `idempotent`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from autogrocery import __version__
from autogrocery.api.bodies import read_body
from autogrocery.api.core import BODY, CALLER, principal
from autogrocery.api.idempotency import Run, idempotent
from autogrocery.contract import base as schemas
from autogrocery.contract import events as event_schemas
from autogrocery.domain.errors import DomainError
from autogrocery.domain.records import Made, RequestKey

REF = schemas.REF
METHODS = ("get", "post", "put", "patch", "delete")
Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    description: str
    model: type[msgspec.Struct] | None = None  # a schemas Struct; None: no JSON body
    media: str = "application/json"
    schema: Mapping[str, object] | None = None  # for bodies that are not JSON models
    headers: Mapping[str, object] | None = None  # response headers, as OpenAPI describes them


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    description: str
    schema: Mapping[str, object]
    where: str = "query"


@dataclass(frozen=True, slots=True)
class Operation:
    id: str
    summary: str
    tag: str
    roles: tuple[str, ...] | None  # None: public; (): any signed-in caller
    replies: tuple[Reply, ...]
    description: str = ""
    body: type[msgspec.Struct] | None = None  # the request model; the handler gets it decoded
    problems: tuple[int, ...] = ()  # error statuses beyond those implied
    params: tuple[Param, ...] = ()
    idempotent: bool = False
    security: tuple[str, ...] = ("bearerAuth",)
    extra: dict[str, object] = field(default_factory=dict)
    # Models a hand-written reply schema refers to (e.g. a oneOf of two untagged bodies).
    refers: tuple[type[msgspec.Struct], ...] = ()


_OPERATIONS: dict[Handler, Operation] = {}
_ASSETS: set[Handler] = set()
_FOREIGN: set[Handler] = set()


def documented(op: Operation) -> Callable[[Handler], Handler]:
    """Declare a handler's operation, and enforce it: the caller must have one of
    `roles` (then it is `request[CALLER]`), and the body must decode into `body`
    (then it is the handler's second argument). Auth comes first: a caller without
    a token learns nothing about the body."""
    query_token = "queryToken" in op.security

    def mark(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def endpoint(request: web.Request) -> web.StreamResponse:
            if op.roles is not None:
                request[CALLER] = principal(request, *op.roles, allow_query_token=query_token)
            if op.body is None:
                return await handler(request)
            try:
                body = await read_body(request, op.body)
            except DomainError as error:
                if not op.idempotent or BODY not in request or error.status >= 500:
                    raise
                # A refusal is an answer like any other: under a key, the one mechanism
                # notes it (and a key used before is looked up first).
                caller, raw = request[CALLER], request[BODY]
                return await idempotent(request, caller, raw, refuse(error), again=made_nothing)
            return await handler(request, body)

        _OPERATIONS[endpoint] = op
        return endpoint

    return mark


def refuse(error: DomainError) -> Run:
    async def run(_: RequestKey | None) -> web.Response:
        raise error

    return run


async def made_nothing(_: Made) -> None:
    """A refused body made nothing: what its key made was another request's (422)."""
    return None


def asset(handler: Handler) -> Handler:
    """A route that serves a file for a page (not part of the API's description)."""
    _ASSETS.add(handler)
    return handler


def foreign(handler: Handler) -> Handler:
    """A route of another API's contract (the original devices', `api/compat`): served
    beside ours, but not part of this document, which describes autogrocery's own API."""
    _FOREIGN.add(handler)
    return handler


PROBLEMS: dict[int, tuple[str, str]] = {
    400: (
        "BadRequest",
        "Invalid request: the body is not JSON or not an object, wrong types, missing or "
        "unknown fields, a quantity out of range, an empty item list, an unknown SKU, or a "
        "bad query parameter or Idempotency-Key. `errors` names the field.",
    ),
    401: (
        "Unauthorized",
        "No, invalid or expired access token (on auth endpoints: bad credentials or "
        "refresh token). Sent with `WWW-Authenticate: Bearer`.",
    ),
    403: ("Forbidden", "A valid token, but the caller's role may not use this operation."),
    404: ("NotFound", "No such resource, or it belongs to another user (never leaked)."),
    408: ("RequestTimeout", "The body did not arrive within `api.body_timeout` seconds."),
    409: (
        "Conflict",
        "Insufficient stock (with `shortages`), an illegal state transition, a duplicate, "
        "or a change that would take on_hand below reserved.",
    ),
    413: ("PayloadTooLarge", "The body is larger than 64 KiB."),
    415: ("UnsupportedMediaType", "Content-Type is not application/json."),
    422: ("IdempotencyMismatch", "The Idempotency-Key was used with a different request."),
    429: ("TooManyRequests", "Too many failed logins; retry after `Retry-After` seconds."),
    503: (
        "ServiceUnavailable",
        "A dependency is down or busy (e.g. no robot of an aisle seen lately: `aisles` names "
        "them; the store's writes failing; the database still locked after its busy "
        "timeout); retry after `Retry-After` seconds (also `retry_after`).",
    ),
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "required": True}}
_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}

TAGS = {
    "auth": "Accounts and tokens.",
    "catalog": "What is for sale.",
    "orders": "Customer orders (devices).",
    "restocks": "Truck deliveries.",
    "live": "Live events over a WebSocket.",
    "ops": "Operator tools.",
    "operations": "Health, readiness, metrics, and this documentation.",
}

INFO_DESCRIPTION = """\
The HTTP API of an automated grocery store, used by customer devices (smart fridges,
phones), trucks, store operators and the dashboard.

**Auth.** `POST /api/auth/login` gives a short-lived access token (HS256 JWT) and a
single-use refresh token. Send `Authorization: Bearer <access token>`. Roles: `device`
(self-registered customers), `truck` and `operator` (created by an operator). Each
operation says which roles may call it; a valid token with another role gets 403.

**Errors.** Every error is `application/problem+json` (RFC 9457): `type`, `title`,
`status`, `detail`, `instance`, plus `errors` (`[{field, message}]`) for bad input and
`shortages` (`[{sku, requested, available}]`) for insufficient stock. A 503 (or 429)
carries `Retry-After` and `retry_after`: the seconds to wait before trying again.

**Idempotency.** `POST /api/orders/preview`, `POST /api/orders/{order_id}/confirm` and
`POST /api/restocks` accept an `Idempotency-Key` header: a retry with the same key and
request within 24 h returns the first response with `Idempotent-Replayed: true`.

**Formats.** JSON bodies (UTF-8). Money is a decimal string with two places (`"12.40"`),
never a float. Timestamps are RFC 3339 UTC. Quantities are positive integers.

**Browsers.** These pages are served by the store itself. Other web origins may call the
API when the operator lists them in `api.cors_origins` (none by default).
"""


def check_documented(router: web.UrlDispatcher) -> list[tuple[str, str, Operation]]:
    """(method, path, operation) of every operation `router` serves; raises if a route
    is undocumented."""
    found: list[tuple[str, str, Operation]] = []
    for route in router.routes():
        method = route.method.lower()
        resource = route.resource
        if method not in METHODS or resource is None:
            continue
        if route.handler in _ASSETS or route.handler in _FOREIGN:
            continue
        op = _OPERATIONS.get(route.handler)
        if op is None:
            raise RuntimeError(f"{route.method} {resource.canonical} has no @documented")
        found.append((method, resource.canonical, op))
    return found


def build_document(
    router: web.UrlDispatcher,
    *,
    max_quantity: int | None = None,
    max_lines: int | None = None,
    title: str = "autogrocery",
    description: str = INFO_DESCRIPTION,
    tags: dict[str, str] | None = None,
    live_events: bool = True,
) -> dict[str, object]:
    """The document for every route of `router`; raises if a route is undocumented.
    The store's by default; another app (the head office) names its own title,
    description and tags, and has no live events. Only the models of the operations on
    `router` are described, whatever else this process has imported."""
    paths: dict[str, dict[str, object]] = {}
    served: list[Operation] = []
    for method, canonical, op in check_documented(router):
        served.append(op)
        paths.setdefault(canonical, {})[method] = _operation(op, canonical)
    models: list[object] = [schemas.Problem]  # Structs, and the live events' union
    models += [event_schemas.Event] if live_events else []
    for op in served:
        models += [op.body] if op.body is not None else []
        models += [r.model for r in op.replies if r.model is not None]
        models += list(op.refers)
    unique = list(dict.fromkeys(models))
    tops, components = msgspec.json.schema_components(unique, ref_template=REF + "{name}")
    if live_events:  # a union: named by hand
        components["Event"] = tops[unique.index(event_schemas.Event)]
    if max_quantity is not None and max_lines is not None:
        _limit(components, max_quantity, max_lines)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__, "description": description},
        "servers": [{"url": "/", "description": "This server (wherever it is bound)."}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name, "description": text} for name, text in (tags or TAGS).items()],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "responses": {
                name: _problem_reply(status, text) for status, (name, text) in PROBLEMS.items()
            },
            "securitySchemes": _security(live_events),
        },
    }


def _security(query_token: bool) -> dict[str, object]:
    schemes: dict[str, object] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    if query_token:
        schemes["queryToken"] = {
            "type": "apiKey",
            "in": "query",
            "name": "token",
            "description": "The access token as ?token=; only on /api/events.",
        }
    return schemes


def _operation(op: Operation, path: str) -> dict[str, object]:
    statuses = set(op.problems)
    if op.roles is not None:
        statuses.add(401)
        if op.roles:
            statuses.add(403)
    if op.body is not None:
        statuses |= {400, 408, 413, 415}
    if op.params:
        statuses.add(400)
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(path)
    ]
    params += [
        {"name": p.name, "in": p.where, "required": False, "description": p.description}
        | {"schema": p.schema}
        for p in op.params
    ]
    if op.idempotent:
        statuses |= {400, 422}
        params.append(_IDEMPOTENCY_KEY)
    who = "public (no token)" if op.roles is None else ", ".join(op.roles) or "any signed-in"
    doc: dict[str, object] = {
        "operationId": op.id,
        "summary": op.summary,
        "tags": [op.tag],
        "description": f"Roles: {who}. {op.description}".strip(),
        "security": [{s: []} for s in op.security] if op.roles is not None else [],
    }
    if op.roles is not None:
        doc["x-roles"] = list(op.roles)  # [] = any signed-in caller
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(op.body)}},
        }
    responses: dict[str, object] = {}
    for reply in op.replies:
        responses[str(reply.status)] = _reply(reply, op.idempotent)
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": "#/components/responses/" + PROBLEMS[status][0]}
    doc["responses"] = dict(sorted(responses.items()))
    return doc | op.extra


def _reply(reply: Reply, idempotent: bool) -> dict[str, object]:
    out: dict[str, object] = {"description": reply.description}
    schema = _schema_ref(reply.model) if reply.model is not None else reply.schema
    if schema is not None:
        out["content"] = {reply.media: {"schema": schema}}
    headers = dict(reply.headers or {})
    if idempotent and reply.status < 300:
        headers["Idempotent-Replayed"] = {
            "description": "`true` on a replayed first response.",
            "schema": {"type": "string", "const": "true"},
        }
    if headers:
        out["headers"] = headers
    return out


def _problem_reply(status: int, text: str) -> dict[str, object]:
    out: dict[str, object] = {
        "description": text,
        "content": {"application/problem+json": {"schema": {"$ref": REF + "Problem"}}},
    }
    if status in _HEADERS:
        out["headers"] = _HEADERS[status]
    return out


def _schema_ref(model: type[msgspec.Struct]) -> dict[str, object]:
    (schema,), _ = msgspec.json.schema_components([model], ref_template=REF + "{name}")
    return schema


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _limit(components: dict[str, object], max_quantity: int, max_lines: int) -> None:
    """The configured order limits, so the document states what this server enforces."""
    for name in ("OrderLineRequest", "RestockLineRequest"):
        _at(components, name, "properties", "quantity")["maximum"] = max_quantity
    for name in ("PreviewRequest", "RestockRequest"):
        _at(components, name, "properties", "items")["maxItems"] = max_lines


def _at(schema: dict[str, object], *keys: str) -> dict[str, object]:
    """The JSON object at `keys` in a schema msgspec made."""
    for key in keys:
        inner = schema[key]
        if not isinstance(inner, dict):
            raise TypeError(f"{key} is not an object in the schema")
        schema = inner
    return schema


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1-255 printable ASCII. A retry with the same key and request within 24 h "
    "returns the first response (`Idempotent-Replayed: true`) and creates nothing; the "
    "same key with another request is 422. Keys survive a restart.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}
