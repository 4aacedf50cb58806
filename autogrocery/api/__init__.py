"""The HTTP API (aiohttp): auth, orders, restocks, operations, live events, metrics."""

from autogrocery.api.app import create_app, serve

__all__ = ["create_app", "serve"]
