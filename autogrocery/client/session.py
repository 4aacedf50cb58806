"""One HTTP session with a store's API, as one or more accounts.

A `StoreClient` holds the aiohttp session (made on first use, so it may be built
outside a running loop). An `Account` is one login; the client logs it in on its first
request, and when the store answers 401 it renews the access token once (with the
single-use refresh token, or by logging in again; one renewal at a time per account, so
a refresh token is never presented twice) and sends the request again. `call` returns
the answer's body, decoded, or raises `ApiError` for an error answer and `Disconnected`
for none. A client may have an account of its own, used when a call names none.
`ask` is `call` for a caller that knows the answer's shape: it decodes the body straight
into that contract type (`autogrocery/contract/`), strictly (no field it does not
declare), or raises `UnexpectedAnswer` (an `ApiError`, so every caller that shows a
store's error shows it too); `listing` reads a paged listing that way (`every`: as
dicts), and `decode_event` a frame of `/api/events`. The dashboards use these; the bench
and the simulator `call`.

The bench drives the store through this path and measures it from the same machine, so
a request costs what it must and no more: bodies go out and come in through orjson, an
account keeps its headers ready, nothing is validated on the way, and counting requests
by name (for the dashboard's tests) is off unless asked for.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NotRequired, Protocol, Self, TypedDict, TypeVar, cast

import aiohttp
import msgspec
import orjson

from autogrocery.client.errors import ApiError, Disconnected, UnexpectedAnswer, describe
from autogrocery.contract.events import Event

EVENTS_HEARTBEAT = 5.0  # seconds; a silent store is noticed within two of these
EVENTS_CLOSE_TIMEOUT = 2.0  # seconds for the store to answer a closing WebSocket
_NO_HEADERS: dict[str, str] = {}
_JSON_BODY = {"Content-Type": "application/json"}
T = TypeVar("T")
P = TypeVar("P", bound="Paged")
E = TypeVar("E")


class Paged(Protocol):
    """A page of a listing: its entries, and the cursor of the next page (None: last)."""

    @property
    def next_cursor(self) -> str | None: ...


_decoders: dict[type, msgspec.json.Decoder[object]] = {}  # one per answer type, made once
_events: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)


def decode(kind: type[T], payload: bytes | str, what: str) -> T:
    """`payload` as a `kind`, or `UnexpectedAnswer` (`what`: the request, for its text)."""
    found = _decoders.get(kind)
    if found is None:
        found = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return cast("T", found.decode(payload))
    except msgspec.DecodeError as exc:  # not JSON, or not the shape (ValidationError)
        raise UnexpectedAnswer(str(exc), what=what) from exc


def decode_event(frame: bytes | str) -> Event:
    """One `/api/events` frame as its event, or `UnexpectedAnswer`."""
    try:
        return _events.decode(frame)
    except msgspec.DecodeError as exc:
        raise UnexpectedAnswer(str(exc), what="/api/events") from exc


class TokenPair(TypedDict):
    """What a login or a refresh answers (the original devices' login: no refresh token)."""

    access_token: str
    refresh_token: NotRequired[str]


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = ""

    def __repr__(self) -> str:  # never print a password by accident
        return f"Credentials({self.username!r}, password=…)"


class Account:
    """One login on a store: its credentials, and its tokens once logged in."""

    __slots__ = ("access", "credentials", "headers", "json_headers", "lock", "refresh")

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.access = ""
        self.refresh = ""
        self.headers: dict[str, str] = _NO_HEADERS  # ready to send, with no body
        self.json_headers: dict[str, str] = _JSON_BODY  # ready to send, with a JSON body
        self.lock = asyncio.Lock()  # one renewal at a time

    def hold(self, tokens: TokenPair) -> None:
        """Keep a login's or a refresh's answer."""
        self.access, self.refresh = tokens["access_token"], tokens.get("refresh_token", "")
        self.headers = {"Authorization": f"Bearer {self.access}"}
        self.json_headers = self.headers | _JSON_BODY

    def forget(self) -> None:
        self.access = self.refresh = ""
        self.headers, self.json_headers = _NO_HEADERS, _JSON_BODY

    @property
    def username(self) -> str:
        return self.credentials.username


class StoreClient:
    """A session with one store. Use as `async with StoreClient(url) as client`."""

    def __init__(
        self,
        url: str,
        login: Credentials | None = None,
        *,
        timeout: float = 10.0,
        connections: int = 100,
        counted: bool = False,
    ) -> None:
        """`login`: the client's own account, for calls that name none. `timeout`: for
        a whole request, in seconds. `connections`: open at once, at most (0: no cap).
        `counted`: count requests by method and label in `sent`."""
        self.url = url.rstrip("/")
        self.account = Account(login) if login is not None else None
        self.timeout = timeout
        self.connections = connections
        self.counted = counted
        self.sent: collections.Counter[str] = collections.Counter()  # "POST /api/restocks" → n
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- requests --------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        account: Account | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        label: str | None = None,
    ) -> Any:
        """One request as `account` (or the client's own; with neither, as nobody); an
        expired login is renewed once and the request sent again. `label` names it in
        `sent` and in an `ApiError` (its path by default)."""
        payload = await self._as(method, path, body, account, params, headers, label)
        return orjson.loads(payload) if payload else None

    async def ask(
        self,
        kind: type[T],
        method: str,
        path: str,
        body: object = None,
        *,
        account: Account | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        label: str | None = None,
    ) -> T:
        """`call`, its answer decoded into `kind` (a contract Struct), strictly: an
        answer of another shape is an `UnexpectedAnswer`."""
        payload = await self._as(method, path, body, account, params, headers, label)
        return decode(kind, payload, label or path)

    async def _as(
        self,
        method: str,
        path: str,
        body: object,
        account: Account | None,
        params: dict[str, str] | None,
        headers: dict[str, str] | None,
        label: str | None,
    ) -> bytes:
        """The answer's body, as `account` (see `call`)."""
        account = account or self.account
        if account is None:
            return await self._exchange(method, path, body, None, params, headers, label)
        if not account.access:
            await self.renew(account, stale="")
        stale = account.access
        try:
            return await self._exchange(method, path, body, account, params, headers, label)
        except ApiError as refused:
            if refused.status != 401:
                raise
        await self.renew(account, stale=stale)
        return await self._exchange(method, path, body, account, params, headers, label)

    async def every(
        self,
        path: str,
        *,
        account: Account | None = None,
        params: dict[str, str] | None = None,
        key: str = "items",
        limit: int = 1000,
    ) -> list[Any]:
        """Every entry of a paged listing (`limit`, `cursor`, `next_cursor`), page by page:
        each answer stays small for the store to build and for this client to read."""
        found: list[Any] = []
        cursor: str | None = None
        while True:
            page_params = (params or {}) | {"limit": str(limit)}
            if cursor:
                page_params["cursor"] = cursor
            page = await self.call("GET", path, account=account, params=page_params)
            found.extend(page[key])
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    async def listing(
        self,
        kind: type[P],
        path: str,
        entries: Callable[[P], list[E]],
        *,
        account: Account | None = None,
        params: dict[str, str] | None = None,
        limit: int = 1000,
    ) -> list[E]:
        """`every`, typed: each page decoded into `kind` (see `ask`), its `entries` kept."""
        found: list[E] = []
        cursor: str | None = None
        while True:
            page_params = (params or {}) | {"limit": str(limit)}
            if cursor:
                page_params["cursor"] = cursor
            page = await self.ask(kind, "GET", path, account=account, params=page_params)
            found.extend(entries(page))
            cursor = page.next_cursor
            if not cursor:
                return found

    async def _send(
        self,
        method: str,
        path: str,
        body: object,
        account: Account | None,
        params: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        label: str | None = None,
    ) -> Any:
        payload = await self._exchange(method, path, body, account, params, extra, label)
        return orjson.loads(payload) if payload else None

    async def _exchange(
        self,
        method: str,
        path: str,
        body: object,
        account: Account | None,
        params: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        label: str | None = None,
    ) -> bytes:
        """One request; the answer's body (b"" for none), or `ApiError`/`Disconnected`."""
        if self.counted:
            self.sent[f"{method} {label or path}"] += 1
        if body is None:
            data = None
            headers = account.headers if account is not None else _NO_HEADERS
        else:
            data = orjson.dumps(body)
            headers = account.json_headers if account is not None else _JSON_BODY
        if extra:
            headers = headers | extra
        try:
            async with self.http.request(
                method, self.url + path, data=data, params=params, headers=headers
            ) as response:
                payload = await response.read()
                status, reason = response.status, response.reason
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Disconnected(describe(exc)) from exc
        if status >= 400:
            raise ApiError.from_body(status, payload, reason, label or path)
        return payload

    # --- accounts --------------------------------------------------------------------

    async def register(self, credentials: Credentials) -> None:
        """A device's account (`/api/auth/register`); a taken name is an `ApiError` 409."""
        body = {"username": credentials.username, "password": credentials.password}
        await self._send("POST", "/api/auth/register", body, None)

    async def log_in(self, account: Account) -> None:
        """Log `account` in afresh, whatever tokens it holds."""
        credentials = account.credentials
        body = {"username": credentials.username, "password": credentials.password}
        account.hold(await self._send("POST", "/api/auth/login", body, None))

    async def renew(self, account: Account, stale: str) -> None:
        """A new access token for `account`, which `stale` was: refreshed, or a new
        login when it has no live refresh token. Nothing to do if another caller
        renewed it since `stale` was handed out."""
        async with account.lock:
            if account.access != stale:
                return
            if account.refresh:
                body = {"refresh_token": account.refresh}
                try:
                    pair = await self._send("POST", "/api/auth/refresh", body, None)
                except ApiError:
                    account.forget()  # a dead refresh token: log in again below
                else:
                    account.hold(pair)
                    return
            await self.log_in(account)

    # --- live events -----------------------------------------------------------------

    @asynccontextmanager
    async def events(
        self, account: Account | None = None, *, heartbeat: float = EVENTS_HEARTBEAT
    ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """`account`'s WebSocket on `/api/events` (or the client's own account's): the
        events it may see. An expired login is renewed once, as for `call`."""
        account = account or self.account
        if account is not None and not account.access:
            await self.renew(account, stale="")
        stale = account.access if account is not None else ""
        try:
            ws = await self._open_events(account, heartbeat)
        except ApiError as refused:
            if refused.status != 401 or account is None:
                raise
            await self.renew(account, stale=stale)
            ws = await self._open_events(account, heartbeat)
        try:
            yield ws
        finally:
            await ws.close()

    async def _open_events(
        self, account: Account | None, heartbeat: float
    ) -> aiohttp.ClientWebSocketResponse:
        if self.counted:
            self.sent["GET /api/events"] += 1
        try:
            return await self.http.ws_connect(
                self.url + "/api/events",
                headers=account.headers if account is not None else _NO_HEADERS,
                heartbeat=heartbeat,
                timeout=aiohttp.ClientWSTimeout(ws_close=EVENTS_CLOSE_TIMEOUT),
            )
        except aiohttp.WSServerHandshakeError as exc:
            message = exc.message or "handshake refused"
            raise ApiError(exc.status, message, what="/api/events") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Disconnected(describe(exc)) from exc
