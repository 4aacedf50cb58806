"""Login throttling after OWASP's Authentication Cheat Sheet: failures are counted per
(username, client) and per client, in a sliding window; never per account alone, so
nobody can lock an account (the operator's above all) out from somewhere else.

- (username, client): `auth.login_max_failures` failures in `auth.login_window` and that
  client may not try that name again until the oldest failure leaves the window.
- client: `auth.login_ip_max_failures` failures on any names and the client may not try
  names it has not logged in with before. A name that did log in from there (in the
  last `TRUSTED_FOR`) keeps working: its own (username, client) limit still applies.
  This is OWASP's "device cookie" idea with the client address as the device, so one
  guessing machine behind a shared address (NAT) does not lock out its neighbours.

A client is the TCP peer address; IPv6 clients by their /64, which one host usually
holds whole. Counters live in memory (a restart forgets them) and are bounded.
"""

from __future__ import annotations

import collections
import ipaddress
import time

from autogrocery.api.problems import TooManyRequests

TRUSTED_FOR = 30 * 86400.0  # how long a name that logged in from a client is known there
MAX_TRUSTED = 100_000  # (username, client) pairs remembered as known, oldest forgotten
SWEEP_EVERY = 1024  # failures between sweeps of counters whose window has passed


def client_key(remote: str | None) -> str:
    """The throttling key of a peer address: IPv4 as is, IPv6 by its /64."""
    if not remote:
        return "unknown"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class LoginThrottle:
    def __init__(self, per_pair: int, per_client: int, window: float) -> None:
        self.per_pair = per_pair
        self.per_client = per_client
        self.window = window
        self.failures: dict[tuple[str, ...], collections.deque[float]] = {}
        self.trusted: collections.OrderedDict[tuple[str, str], float] = collections.OrderedDict()
        self._since_sweep = 0

    def check(self, username: str, client: str) -> None:
        """Raise 429 (with Retry-After) if this attempt may not be made now."""
        clock = time.monotonic()
        pair = self._recent(("pair", username, client), clock)
        if len(pair) >= self.per_pair:
            raise self._refusal("this username from your address", pair, clock)
        by_client = self._recent(("client", client), clock)
        if len(by_client) >= self.per_client and not self._known(username, client, clock):
            raise self._refusal("your address", by_client, clock)

    def failed(self, username: str, client: str) -> None:
        clock = time.monotonic()
        for key in (("pair", username, client), ("client", client)):
            self.failures.setdefault(key, collections.deque()).append(clock)
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep(clock)

    def succeeded(self, username: str, client: str) -> None:
        """A correct password: this pair's failures are forgiven and the name is known
        from this client. Other clients' failures for the name stay counted."""
        self.failures.pop(("pair", username, client), None)
        self.trusted[(username, client)] = time.monotonic()
        self.trusted.move_to_end((username, client))
        while len(self.trusted) > MAX_TRUSTED:
            self.trusted.popitem(last=False)

    def _known(self, username: str, client: str, clock: float) -> bool:
        since = self.trusted.get((username, client))
        return since is not None and clock - since < TRUSTED_FOR

    def _refusal(
        self, what: str, failures: collections.deque[float], clock: float
    ) -> TooManyRequests:
        retry = max(1, int(failures[0] + self.window - clock) + 1)
        return TooManyRequests(f"too many failed logins for {what}; try again in {retry}s", retry)

    def _recent(self, key: tuple[str, ...], clock: float) -> collections.deque[float]:
        failures = self.failures.get(key, collections.deque())
        while failures and failures[0] <= clock - self.window:
            failures.popleft()
        if not failures:
            self.failures.pop(key, None)
        return failures

    def _sweep(self, clock: float) -> None:
        self._since_sweep = 0
        for key in list(self.failures):
            self._recent(key, clock)
