"""The event WebSocket: hello with agent states, live updates, close, slow clients, shutdown."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from tests.http.conftest import TOKEN, Api

WAIT = 5.0


async def _connect(api: Api) -> aiohttp.ClientWebSocketResponse:
    return await api.session.ws_connect(api.url(f"/api/events?token={TOKEN}"))


async def _next_of_type(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict:
    async with asyncio.timeout(WAIT):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            event = json.loads(msg.data)
            if event["type"] == kind:
                return event


async def test_hello_carries_the_current_agent_states(api: Api) -> None:
    await api.call("POST", "/api/agents/1002/login", {"device": "sip"})
    ws = await _connect(api)
    hello = await _next_of_type(ws, "hello")
    states = {a["id"]: a["state"] for a in hello["agents"]}
    assert states == {"1001": "offline", "1002": "ready", "1003": "offline", "1004": "offline"}
    await ws.close()


async def test_login_through_the_api_is_streamed_as_an_agent_state_event(api: Api) -> None:
    ws = await _connect(api)
    await _next_of_type(ws, "hello")
    status, _ = await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200
    event = await _next_of_type(ws, "agent_state")
    assert (event["agent"], event["old"], event["new"]) == ("1001", "offline", "ready")

    await api.call("POST", "/api/agents/1001/pause", {"reason": "coffee"})
    event = await _next_of_type(ws, "agent_state")
    assert (event["new"], event["reason"]) == ("paused", "coffee")
    await ws.close()


async def test_the_authorization_header_works_for_the_websocket_too(api: Api) -> None:
    ws = await api.session.ws_connect(
        api.url("/api/events"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert (await _next_of_type(ws, "hello"))["type"] == "hello"
    await ws.send_str("ping")
    assert (await _next_of_type(ws, "pong"))["type"] == "pong"
    await ws.close()


async def test_a_closed_client_is_unsubscribed(api: Api) -> None:
    hub = api.server.events
    ws = await _connect(api)
    await _next_of_type(ws, "hello")
    assert len(hub._subscribers) == 1
    await ws.close()
    async with asyncio.timeout(WAIT):
        while hub._subscribers:
            await asyncio.sleep(0.01)


async def test_a_client_that_does_not_read_neither_blocks_the_server_nor_other_clients(
    api: Api,
) -> None:
    stalled = await _connect(api)  # never reads after this
    reader = await _connect(api)
    await _next_of_type(reader, "hello")
    padding = "x" * 2000
    for i in range(3000):  # ~6 MB: far beyond socket buffers and the hub's queue
        api.server.events.publish({"type": "test", "i": i, "padding": padding})
        if i % 200 == 0:
            await asyncio.sleep(0)
    api.server.events.publish({"type": "test_last"})

    async with asyncio.timeout(WAIT):
        assert (await _next_of_type(reader, "test_last"))["type"] == "test_last"
    started = time.monotonic()
    status, _ = await api.call("GET", "/api/agents")
    assert status == 200
    assert time.monotonic() - started < 1.0
    await stalled.close()
    await reader.close()


async def test_server_stop_closes_open_streams_promptly(api: Api) -> None:
    ws = await _connect(api)
    await _next_of_type(ws, "hello")
    started = time.monotonic()
    await asyncio.wait_for(api.server.stop(), WAIT)
    assert time.monotonic() - started < 2.0
    msg = await ws.receive(timeout=WAIT)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
