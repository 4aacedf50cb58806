"""Migration 17: an order or restock made under an Idempotency-Key keeps a digest of
the request (its route and body) beside the key, written in the order's own commit: it
is the request's one record (api/idempotency.py). Orders made before have none."""

REQUEST_HASHES = """
    ALTER TABLE orders ADD COLUMN request_hash TEXT;
"""
