"""Where a webhook may send: the defence against server-side request forgery.

An admin names a URL; the hub would then make requests from inside the
network it runs in. So a URL is refused unless it is ``http`` or ``https``
and its host resolves, and (unless ``HUB_WEBHOOK_ALLOW_PRIVATE``) only to
public addresses: never loopback, private, link-local, multicast, reserved,
unspecified or otherwise non-global ones, IPv4 or IPv6, looking inside the
IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo).
A name that resolves to any refused address is refused as a whole.

:func:`resolve` runs at creation and again before every attempt (DNS can
change); the attempt then connects only to the addresses it returned
(:mod:`hub.service.sender` pins them), so a name cannot pass the check with
one address and be reached at another.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2000
# Threads of its own: a slow name server must not hold up other webhooks' lookups, nor
# the default executor's other work (password hashing). Threads start as needed.
_RESOLVER = ThreadPoolExecutor(max_workers=32, thread_name_prefix="webhook-dns")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be used; the message says why, for the admin."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its host as the HTTP client sees it, and the addresses allowed."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


def parse(url: str) -> httpx.URL:
    """The URL if it is absolute ``http``/``https`` with a host, else :class:`Refused`."""
    if len(url) > MAX_URL_LENGTH:
        raise Refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise Refused("the URL must start with http:// or https://")
    if not parsed.host:
        raise Refused("the URL has no host")
    return parsed


async def resolve(url: str, allow_private: bool, resolve_seconds: float) -> Target:
    """Check ``url`` and resolve its host; every address must be allowed.

    Raises:
        Refused: a malformed URL, a host that does not resolve within
            ``resolve_seconds``, or (unless ``allow_private``) one with a refused address.
    """
    parsed = parse(url)
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded; IPv6 without brackets
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    addresses = await _addresses(host, port, resolve_seconds)
    if not allow_private:
        for address in addresses:
            kind = refused_kind(address)
            if kind is not None:
                raise Refused(f"{host} resolves to {address}, a {kind} address")
    return Target(str(parsed), host, port, addresses)


async def _addresses(host: str, port: int, resolve_seconds: float) -> tuple[str, ...]:
    """The addresses a host stands for: itself when it is one, else what DNS says now."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(resolve_seconds):
            found = await loop.run_in_executor(
                _RESOLVER,
                functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM),
            )
    except (OSError, UnicodeError, TimeoutError):
        raise Refused(f"{host} does not resolve") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise Refused(f"{host} does not resolve")
    return addresses


def refused_kind(address: str) -> str | None:
    """Why an address may not be reached (``loopback``, ``private``, …), or None."""
    ip = ipaddress.ip_address(address)
    for inner in _embedded(ip):
        kind = refused_kind(str(inner))
        if kind is not None:
            return kind
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "non-public"),
    )
    return next((kind for refused, kind in checks if refused), None)


def _embedded(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, NAT64, 6to4, Teredo)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    inner = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64:
        inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [a for a in inner if a is not None]
