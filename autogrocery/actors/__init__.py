"""The actors (ordering, inventory, pricing, robots, analytics), their supervisor,
the asyncio bridge and the `System` facade."""

from autogrocery.actors.system import OrderLimits, System

__all__ = ["OrderLimits", "System"]
