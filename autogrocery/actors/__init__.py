"""The actors (ordering, inventory, pricing, robots, analytics), their supervisor,
the asyncio bridge and the `System` facade."""

from autogrocery.actors.system import Limits, System

__all__ = ["Limits", "System"]
