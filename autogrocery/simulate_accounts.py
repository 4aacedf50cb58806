"""The simulator's fridges' accounts on a store: registered, or logged in again.

Each fridge registers itself (`fridge_accounts`) through the shared client
(`autogrocery/client/`), which logs it in and renews its login; the operator's and the
truck's logins are given to the simulator.
"""

from __future__ import annotations

import secrets

from autogrocery.client import Account, ApiError, Credentials, StoreClient


async def fridge_accounts(client: StoreClient, count: int, password: str) -> list[Account]:
    """`count` fridges' accounts, registered (or logged in again, as a simulator that
    ran before); names another has taken are given up for fresh ones."""
    prefix = "sim-fridge"
    fridges = []
    for number in range(1, count + 1):
        account = Account(Credentials(f"{prefix}-{number}", password))
        taken = await _register(client, account.credentials)
        try:
            await client.log_in(account)
        except ApiError as refused:  # the name is someone else's: take a fresh one
            if refused.status != 401 or not taken:
                raise
            prefix = f"sim-fridge-{secrets.token_hex(3)}"
            account = Account(Credentials(f"{prefix}-{number}", password))
            await _register(client, account.credentials)
            await client.log_in(account)
        fridges.append(account)
    return fridges


async def _register(client: StoreClient, credentials: Credentials) -> bool:
    """Register a fridge; True when its name was taken already (409)."""
    try:
        await client.register(credentials)
    except ApiError as refused:
        return refused.status == 409
    return False
