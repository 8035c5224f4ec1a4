"""Trunk and device host names are resolved without blocking the event loop, with a
timeout (defect 8: two blocking gethostbyname calls ran on the loop)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from vaxel.calls import resolve
from vaxel.calls.resolve import ResolveError, resolve_host


async def test_an_address_literal_needs_no_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: object, **_k: object) -> None:
        raise AssertionError("the resolver was asked for a literal")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert await resolve_host("127.0.0.1") == "127.0.0.1"


async def test_a_name_is_resolved_off_the_loop_and_the_loop_keeps_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def slow_getaddrinfo(host: str, *_a: object, **_k: object) -> list:
        time.sleep(0.3)  # a slow DNS server: blocks whoever calls it
        return [(socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("192.0.2.7", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        assert await resolve_host("trunk.example") == "192.0.2.7"
    finally:
        task.cancel()
    assert ticks >= 10, f"the event loop stalled while resolving ({ticks} ticks in 0.3 s)"


async def test_a_resolver_that_hangs_is_given_up_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def hang(*_a: object, **_k: object) -> list:
        time.sleep(1.0)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    started = time.monotonic()
    with pytest.raises(ResolveError, match="no answer from the resolver"):
        await resolve_host("trunk.example", timeout=0.2)
    assert time.monotonic() - started < 0.8


def test_nothing_in_the_call_path_calls_the_blocking_resolver() -> None:
    import inspect

    from vaxel.calls import controller, trunk

    for module in (controller, trunk, resolve):
        assert "gethostbyname" not in inspect.getsource(module), module.__name__
