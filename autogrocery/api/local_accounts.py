"""Accounts the process that runs the store makes for its own parts, without HTTP: the
dashboard `run` starts signs in with an operator and a truck account it creates on
first use. The one door to them from outside the API, so no caller reads its state."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api.auth import Auth
from autogrocery.api.state import STATE


class LocalAccounts:
    def __init__(self, app: web.Application) -> None:
        self._auth: Auth = app[STATE].auth

    async def exists(self, username: str) -> bool:
        return await self._auth.tables.account(username) is not None

    async def create(self, username: str, password: str, role: str) -> None:
        """A new account, as an operator would make it (the password hashed off the loop)."""
        await self._auth.create_account(username, password, role)
