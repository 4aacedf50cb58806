"""What kills a well-signed access token before its `exp`: the denylist that `verify`
checks on every request, cached token or not.

- a logged-out token's `jti`, until that token's `exp`;
- a revoked login (refresh-token family: logout, refresh-token reuse, a password
  change, a disabled account), until the last access token it can have issued expires;
- a disabled account's user id, until it is enabled again.

The durable copy is the `revoked_tokens` table and `accounts.disabled_at`, loaded at
start; this is the in-memory copy, kept in step by `Auth` after each commit.
"""

from __future__ import annotations

import time

PRUNE_EVERY = 60.0  # seconds between sweeps of expired entries


class Revocations:
    def __init__(self) -> None:
        self.jtis: dict[str, float] = {}
        self.families: dict[str, float] = {}
        self.users: set[str] = set()  # disabled accounts
        # Every account there is (None: not loaded, nothing checked). A token signed for
        # an account the store does not hold (its database was lost and started afresh,
        # or an older backup restored) opens nothing.
        self.accounts: set[str] | None = None
        self._pruned = time.time()

    def load(self, tokens: list[tuple[str, str, float]], users: list[str]) -> None:
        for kind, token_id, until in tokens:
            self.deny(kind, token_id, until)
        self.users.update(users)

    def deny(self, kind: str, token_id: str, until: float) -> None:
        table = self.jtis if kind == "jti" else self.families
        table[token_id] = max(until, table.get(token_id, 0.0))
        self._prune()

    def deny_families(self, families: tuple[str, ...], until: float) -> None:
        for family in families:
            self.deny("family", family, until)

    def why_dead(self, user_id: str, jti: str, family: str) -> str | None:
        """Why a token is refused, or None if nothing revoked it."""
        if user_id in self.users:
            return "the account is disabled"
        if self.accounts is not None and user_id not in self.accounts:
            return "the account no longer exists; log in again"
        if jti in self.jtis:
            return "the access token was revoked (logged out)"
        if family and family in self.families:
            return "the access token's login was revoked"
        return None

    def _prune(self) -> None:
        clock = time.time()
        if clock - self._pruned < PRUNE_EVERY:
            return
        self._pruned = clock
        for table in (self.jtis, self.families):
            for token_id in [k for k, until in table.items() if until < clock]:
                del table[token_id]
