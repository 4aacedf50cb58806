"""The HTTP API (aiohttp): auth, orders, restocks, operations, live events, metrics."""

from autogrocery.api.app import create_app
from autogrocery.api.serving import bind, serve

__all__ = ["bind", "create_app", "serve"]
