"""The simulator's accounts on a store's HTTP API: fridges', a truck's, an operator's.

A `Login` is a name and password; an `Account` logs in on first use and again when its
access token expires (one login at a time). `raw` is one request, with or without a
token; an error answer to a login is an `HttpError`. The fridges register themselves
(`fridge_accounts`); the operator and truck logins are given.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"Login({self.username!r}, password=…)"


class HttpError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text[:200]}")
        self.status = status


class Account:
    """One login with its access token; logs in again when the token expires."""

    def __init__(self, http: aiohttp.ClientSession, url: str, login: Login) -> None:
        self.http, self.url, self.login = http, url, login
        self.token = ""
        self._lock = asyncio.Lock()

    async def authenticate(self, stale: str = "") -> None:
        async with self._lock:
            if self.token and self.token != stale:
                return
            body = {"username": self.login.username, "password": self.login.password}
            status, data = await raw(self.http, "POST", self.url + "/api/auth/login", body)
            if status != 200:
                raise HttpError(status, str(data))
            self.token = data["access_token"]

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if not self.token:
            await self.authenticate()
        token = self.token
        status, data = await raw(self.http, method, self.url + path, body, token)
        if status == 401:
            await self.authenticate(stale=token)
            status, data = await raw(self.http, method, self.url + path, body, self.token)
        return status, data


async def raw(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, token: str = ""
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body, headers=headers) as response:
        data = await response.json(content_type=None) if response.content_length != 0 else None
        return response.status, data


async def fridge_accounts(
    http: aiohttp.ClientSession, url: str, count: int, password: str
) -> list[Account]:
    """`count` fridges' accounts, registered (or logged in again, as a simulator that
    ran before); names another has taken are given up for fresh ones."""
    prefix = "sim-fridge"
    fridges = []
    for number in range(1, count + 1):
        login = Login(f"{prefix}-{number}", password)
        body = {"username": login.username, "password": login.password}
        status, _ = await raw(http, "POST", url + "/api/auth/register", body)
        account = Account(http, url, login)
        try:
            await account.authenticate()
        except HttpError as exc:  # the name is someone else's: take a fresh one
            if exc.status != 401 or status != 409:
                raise
            prefix = f"sim-fridge-{secrets.token_hex(3)}"
            login = Login(f"{prefix}-{number}", password)
            body = {"username": login.username, "password": login.password}
            await raw(http, "POST", url + "/api/auth/register", body)
            account = Account(http, url, login)
            await account.authenticate()
        fridges.append(account)
    return fridges
