"""Webhook URLs that would make the store reach into its own network are refused (a
server-side request forgery guard): an address that is not global (private, link-local,
shared, reserved) unless `notify.allow_private_urls`; loopback is always allowed (local
bots, tests); unspecified and multicast never. Checked when a webhook is made or changed
and again at each connection (`GuardedResolver`), so a name that later resolves inside
the network is refused then too."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

SETTING = "notify.allow_private_urls"
RESOLVE_WITHIN = 10.0  # s for a URL's host to resolve when a webhook is made
# IPv6 prefixes whose last 32 bits are an IPv4 address a translator reaches: IPv4-
# translated, NAT64 (well-known and local-use), IPv4-compatible (deprecated).
_CARRIERS = tuple(
    ipaddress.IPv6Network(net)
    for net in ("::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "::/96")
)


class UrlRefused(ValueError):
    """One line saying why a webhook may not go to this URL."""


def parse_url(text: str) -> URL:
    """The URL, if it is an absolute http(s) URL with a host; else UrlRefused."""
    try:
        url = URL(text)
    except ValueError as error:
        raise UrlRefused(f"not a URL: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise UrlRefused(f"{text!r} is not an http:// or https:// URL with a host")
    return url


def refusal(host: str, address: str, allow_private: bool) -> str | None:
    """Why a connection to `host` at `address` (an IP) is refused, or None when it may go."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inner = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if inner is not None:
        ip = inner
    if ip.is_loopback or (ip.is_global and not ip.is_multicast and not _site_local(ip)):
        return None
    where = str(ip) if host == address else f"{host} ({ip})"
    if ip.is_unspecified or ip.is_multicast:
        return f"{where} is not an address a webhook can be sent to"
    if allow_private:
        return None
    return f"{where} is in a private or reserved network; set {SETTING} = true to allow it"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through a translator or a tunnel (mapped,
    translated, compatible, NAT64, 6to4, Teredo's client): a way around the check."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip.is_loopback or ip.is_unspecified:
        return None
    for prefix in _CARRIERS:
        if ip in prefix:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _site_local(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local


async def check_url(text: str, allow_private: bool) -> URL:
    """The URL when every address its host resolves to may be reached; else UrlRefused."""
    url = parse_url(text)
    host = url.raw_host or ""  # what aiohttp connects to (IDNA-encoded)
    try:
        async with asyncio.timeout(RESOLVE_WITHIN):
            found = await asyncio.get_running_loop().getaddrinfo(
                host, url.port, type=socket.SOCK_STREAM
            )
    except TimeoutError:
        raise UrlRefused(f"{host} did not resolve within {RESOLVE_WITHIN:g} s") from None
    except OSError as error:
        raise UrlRefused(f"cannot resolve {host}: {error.strerror or error}") from None
    except (UnicodeError, ValueError):
        raise UrlRefused(f"{text!r} does not have a valid host name") from None
    for *_, sockaddr in found:
        why = refusal(host, str(sockaddr[0]), allow_private)
        if why is not None:
            raise UrlRefused(why)
    return url


def check_literal(url: URL, allow_private: bool) -> None:
    """An IP written in the URL is checked here: aiohttp connects to one without asking
    the resolver."""
    host = url.raw_host or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return
    why = refusal(host, host, allow_private)
    if why is not None:
        raise UrlRefused(why)


class GuardedResolver(AbstractResolver):
    """aiohttp's threaded resolver, refusing a name that resolves to a refused address."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for result in found:
            why = refusal(host, result["host"], self._allow_private)
            if why is not None:
                raise OSError(why)
        return found

    async def close(self) -> None:
        await self._inner.close()
