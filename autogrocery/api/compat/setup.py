"""Adding the layer to the app: its routes and its tables' connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from autogrocery.api.compat import routes_client, routes_truck
from autogrocery.api.compat.stance import TruckStance
from autogrocery.api.compat.state import COMPAT, CompatState
from autogrocery.api.compat.tables import CompatTables
from autogrocery.config import Config
from autogrocery.domain.pricing import PricingRule
from autogrocery.store.db import DB_NAME


def install(app: web.Application, config: Config) -> None:
    """Serve the original devices' API on `app` (call before the app starts)."""
    app.add_routes(routes_client.routes)
    app.add_routes(routes_truck.routes)
    p = config.pricing
    rule = PricingRule(p.margin, p.scarcity_weight, p.min_factor, p.max_factor)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        tables = await CompatTables.open(config.data_path / DB_NAME)
        app[COMPAT] = CompatState(tables, TruckStance.of(config), rule)
        try:
            yield
        finally:
            await tables.close()

    app.cleanup_ctx.append(lifecycle)
