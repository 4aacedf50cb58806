"""Surviving the loss of the machine: Litestream replicating the store's database
(litestream.py, lag.py) and copies of a whole data dir (files.py)."""

__all__ = ["files", "lag", "litestream"]
