"""Host names to addresses without blocking the event loop (trunk hosts, phones' Contacts)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

RESOLVE_TIMEOUT = 3.0


class ResolveError(OSError):
    """A host name that did not resolve (in time)."""


async def resolve_host(host: str, timeout: float = RESOLVE_TIMEOUT) -> str:
    """The IPv4 address of ``host``: literals at once, names through the loop's resolver
    (a thread: ``getaddrinfo`` blocks), never longer than ``timeout``."""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_DGRAM), timeout
        )
    except TimeoutError:
        raise ResolveError(f"{host}: no answer from the resolver in {timeout:g} s") from None
    except OSError as exc:
        raise ResolveError(f"{host}: {exc}") from None
    if not infos:
        raise ResolveError(f"{host}: no IPv4 address")
    return str(infos[0][4][0])
