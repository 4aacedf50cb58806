"""The compatibility layer's application state."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from autogrocery.api.compat.stance import TruckStance
from autogrocery.api.compat.tables import CompatTables
from autogrocery.domain.pricing import PricingRule


@dataclass
class CompatState:
    tables: CompatTables
    truck: TruckStance
    rule: PricingRule  # prices a SKU the truck UI brings that the store did not have


COMPAT = web.AppKey("compat", CompatState)


def compat(request: web.Request) -> CompatState:
    return request.app[COMPAT]
