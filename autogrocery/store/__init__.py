"""SQLite store: schema, migrations and each actor's table access."""

from autogrocery.store.db import connect, open_store, transaction

__all__ = ["connect", "open_store", "transaction"]
