"""The API's resources, each opened and closed by its own cleanup context (aiohttp's
`cleanup_ctx`, opened in order at start and closed in reverse at the end): sign-in
(the JWT secret, the auth tables, the first accounts), then what the app builds on
it, then its background tasks. The store and the head office share `sign_in`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from autogrocery.api.accounts import AuthTables, Writer
from autogrocery.api.auth import BOOTSTRAP, Auth, AuthSettings
from autogrocery.api.first_start import report_bootstrap
from autogrocery.api.tokens import load_secret
from autogrocery.config import AuthConfig


@dataclass(frozen=True, slots=True)
class SignIn:
    auth: Auth
    tables: AuthTables


SIGN_IN = web.AppKey("sign_in", SignIn)


@dataclass(frozen=True, slots=True)
class SignInSetup:
    """Where sign-in keeps its tables and secret, and who the first accounts are."""

    config: AuthConfig
    data_dir: Path  # where a generated JWT secret is kept
    tables: Path  # the SQLite file holding the auth tables
    # The store's one writer (its shared connection's `run_write`); None: the tables
    # write through a connection of their own (the head office).
    write: Writer | None = None
    first_accounts: Sequence[tuple[str, str, str]] = BOOTSTRAP
    environ: dict[str, str] | None = None  # bootstrap passwords (None: the process's)

    async def __call__(self, app: web.Application) -> AsyncIterator[None]:
        """The cleanup context: app[SIGN_IN] while the app runs."""
        loop = asyncio.get_running_loop()
        a = self.config
        secret = await loop.run_in_executor(None, load_secret, a.jwt_secret, self.data_dir)
        tables = await AuthTables.open(self.tables, self.write)
        settings = AuthSettings(
            a.bcrypt_cost,
            a.access_ttl,
            a.refresh_ttl,
            a.login_max_failures,
            a.login_ip_max_failures,
            a.login_window,
        )
        auth = Auth(settings, secret, tables, self.first_accounts)
        try:
            await auth.load()
            report_bootstrap(await auth.bootstrap(self.environ), self.first_accounts)
            app[SIGN_IN] = SignIn(auth, tables)
            yield
        finally:
            # Waits for a hash in flight: off the loop, like every bcrypt call.
            await loop.run_in_executor(None, auth.close)
            await tables.close()
