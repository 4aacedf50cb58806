"""The store API's Python client, shared by the dashboard, the simulator and the bench.

`StoreClient` is one HTTP session with a store: it logs its accounts in (one or many;
each an `Account`), renews an expired access token, sends a request and hands back the
answer's body or raises `ApiError` (an error answer) or `Disconnected` (no answer), and
opens the `/api/events` WebSocket. It knows nothing of the store's insides: aiohttp,
orjson, msgspec, the contract's types (`autogrocery/contract/`) and the standard library
only (an import-linter contract in pyproject.toml).
"""

from autogrocery.client.errors import ApiError, Disconnected, UnexpectedAnswer, describe
from autogrocery.client.session import Account, Credentials, StoreClient, decode, decode_event

__all__ = [
    "Account",
    "ApiError",
    "Credentials",
    "Disconnected",
    "StoreClient",
    "UnexpectedAnswer",
    "decode",
    "decode_event",
    "describe",
]
