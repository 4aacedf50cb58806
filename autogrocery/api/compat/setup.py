"""Adding the layer to the app: its routes and its tables (on the API's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from autogrocery.api.compat import routes_client, routes_truck
from autogrocery.api.compat.stance import TruckStance
from autogrocery.api.compat.state import COMPAT, CompatState
from autogrocery.api.compat.tables import CompatTables
from autogrocery.api.lifespan import SIGN_IN
from autogrocery.config import Config
from autogrocery.domain.pricing import PricingRule


def install(app: web.Application, config: Config) -> None:
    """Serve the original devices' API on `app` (call before the app starts, after the
    sign-in's cleanup context is added: the layer's tables are the API's)."""
    app.add_routes(routes_client.routes)
    app.add_routes(routes_truck.routes)
    p = config.pricing
    rule = PricingRule(p.margin, p.scarcity_weight, p.min_factor, p.max_factor)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        tables = CompatTables(app[SIGN_IN].tables)
        app[COMPAT] = CompatState(tables, TruckStance.of(config), rule)
        yield

    app.cleanup_ctx.append(lifecycle)
