"""The head office's aiohttp application: the chain's API (docs/chain.md) with the store's
auth, errors, OpenAPI and idempotency conventions (`api.core`), operators only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from aiohttp import web

from autogrocery import __version__
from autogrocery.api import routes_auth, routes_docs
from autogrocery.api.bodies import MAX_BODY
from autogrocery.api.core import (
    CONNECTION_LIMITS,
    CORE,
    DOCUMENT,
    ApiCore,
    connection_limits,
    observe,
)
from autogrocery.api.document import ServedDocument
from autogrocery.api.idempotency import purge_idempotency
from autogrocery.api.lifespan import SIGN_IN, SignInSetup
from autogrocery.api.openapi import build_document, check_documented
from autogrocery.api.tokens import Principal
from autogrocery.central import routes_chain, routes_ops, routes_transfers
from autogrocery.central.metrics import CentralMetrics
from autogrocery.central.readmodel import ReadModel
from autogrocery.central.state import CENTRAL, CentralState, Links
from autogrocery.config import Config
from autogrocery.domain.records import Made

FIRST_ACCOUNTS = (("admin", "operator", "AUTOGROCERY_ADMIN_PASSWORD"),)
TAGS = {
    "auth": "Operators' tokens.",
    "chain": "The stores of the chain: status, stock, sales, events.",
    "transfers": "Moving stock from one store to another.",
    "catalog": "Catalog and prices for every store.",
    "operations": "Health, readiness, metrics, and this documentation.",
}
DESCRIPTION = """\
The HTTP API of a chain's head office (`autogrocery central run`): every store's state
as its events arrived over NATS JetStream, transfers of stock between stores, and the
catalog versions every store applies. Operators only.

**Auth.** As a store's: `POST /api/auth/login` gives a short-lived access token (HS256
JWT) and a single-use refresh token; send `Authorization: Bearer <access token>`. Every
operation needs the `operator` role. The first operator, `admin`, is made at first
start (its password from AUTOGROCERY_ADMIN_PASSWORD, or printed once).

**Errors.** Every error is `application/problem+json` (RFC 9457), with `errors`
(`[{field, message}]`) for bad input; a 503 carries `Retry-After`.

**Idempotency.** `POST /api/chain/transfers` and `POST /api/chain/catalog` accept an
`Idempotency-Key` header: a retry with the same key and request within 24 h returns the
first response with `Idempotent-Replayed: true` and creates nothing.

**Formats.** Money is a decimal string with two places (`"12.40"`) here, integer cents
on the wire to stores. Timestamps are RFC 3339 UTC; days (`from`, `to`) are the chain's
(`central.time_zone`).

**How far behind.** `lag_events` of a store (GET /api/chain/stores) counts the events
in its leaf's stream the head office has not applied: the stream's last sequence (asked
of the store's leaf every `central.reconcile_interval` seconds) minus the sequence of
the last event applied from that stream.
"""


def create_app(
    config: Config,
    model: ReadModel,
    links: Links,
    data_dir: Path,
    *,
    environ: dict[str, str] | None = None,
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[observe])
    app.add_routes(routes_auth.session_routes())
    for module in (routes_chain, routes_transfers, routes_ops, routes_docs):
        app.add_routes(module.routes)
    check_documented(app.router)
    app[DOCUMENT] = ServedDocument(
        partial(
            build_document,
            app.router,
            title="autogrocery head office",
            description=DESCRIPTION,
            tags=TAGS,
            live_events=False,
        )
    )
    app[CONNECTION_LIMITS] = connection_limits(config.api)
    c = config.central
    metrics = CentralMetrics(c.store_timeout, __version__)
    app[CENTRAL] = CentralState(model, links, metrics, c.store_timeout, c.zone(), c.time_zone)

    sign_in = SignInSetup(
        config.auth, data_dir, model_path(model), first_accounts=FIRST_ACCOUNTS, environ=environ
    )
    app.cleanup_ctx.append(sign_in)
    app.cleanup_ctx.append(partial(_core, config, metrics, model))
    return app


async def _core(
    config: Config, metrics: CentralMetrics, model: ReadModel, app: web.Application
) -> AsyncIterator[None]:
    """The head office API's core on the sign-in, with its one background task."""
    sign_in, ttl = app[SIGN_IN], config.auth.idempotency_ttl

    async def made(caller: Principal, key: str) -> Made | None:
        return await model.made(caller.user_id, key)

    app[CORE] = core = ApiCore(
        auth=sign_in.auth,
        tables=sign_in.tables,
        metrics=metrics,
        idempotency_ttl=ttl,
        made=made,
    )
    core.background.start("idempotency-purge", lambda: purge_idempotency(sign_in.tables, ttl))
    try:
        yield
    finally:
        await core.background.stop()


def model_path(model: ReadModel) -> Path:
    """The SQLite file holding the API's own tables (the read model's file, or, with
    PostgreSQL, one beside the data: `sqlconn.Backend.auth_file`)."""
    path: Path | None = getattr(model, "auth_file", None)
    if path is None:
        raise RuntimeError("the head office's read model names no file for its auth tables")
    return path
