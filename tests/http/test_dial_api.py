"""Click-to-call over the API (docs/outbound.md): the agent's phone rings first (a real
UDP socket standing in for it), the call shows in /api/calls, and refusals name the field."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from config import parse_config
from tests.http.conftest import Api, register_phone
from tests.http.test_access_matrix import sign_in
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

NUMBER = "0701234567"
OUTBOUND = """
[outbound]
enabled = true
allowed_prefixes = ["0"]
blocked_prefixes = ["0900"]
caller_id = "0812345000"

[trunks.main]
host = "127.0.0.1"
port = 9
"""


@pytest.fixture
async def dial_api(tmp_path: Path) -> AsyncIterator[Api]:
    config = parse_config(demo_toml_with(tmp_path, extra=OUTBOUND), source="test.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(server, session, server.http_url)
    finally:
        await server.stop()


async def _post(api: Api, token: str, path: str, body: object) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    async with api.session.post(api.url(path), json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def _invite_at(phone: socket.socket, timeout: float = 10.0) -> bytes:
    loop = asyncio.get_running_loop()
    phone.setblocking(False)
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            data = phone.recv(65535)
        except BlockingIOError:
            await asyncio.sleep(0.05)
            continue
        if data.startswith(b"INVITE "):
            return data
    raise AssertionError("the agent's phone got no INVITE")


async def test_click_to_call_rings_the_agents_phone_and_shows_in_the_calls(
    dial_api: Api, silent_phone: socket.socket
) -> None:
    register_phone(dial_api, "1001", silent_phone)
    token = await sign_in(dial_api, "1001", "demo-1001-password")
    status, _ = await _post(dial_api, token, "/api/agents/1001/login", {"device": "sip"})
    assert status == 200
    status, body = await _post(
        dial_api, token, "/api/agents/1001/dial", {"number": "070-123 45 67"}
    )
    assert status == 201, body
    call = body["call"]
    assert (call["number"], call["caller_id"]) == ("0701234567", "0812345000")
    invite = await _invite_at(silent_phone)
    # The agent's phone shows the number about to be called, not the company's.
    from_line = next(h for h in invite.split(b"\r\n") if h.lower().startswith(b"from:"))
    assert b"0701234567" in from_line, from_line
    status, calls = await dial_api.call("GET", "/api/calls")
    assert status == 200
    assert [(c["call_id"], c["kind"], c["state"], c["agent"]) for c in calls["calls"]] == [
        (call["call_id"], "click-to-call", "ringing", "1001")
    ]
    assert dial_api.server.calls is not None
    # Busy for the ACD while the click-to-call rings: no queue call is offered meanwhile.
    assert dial_api.server.calls.acd.agent_view("1001").state.value == "busy"


async def test_agents_dial_only_for_themselves(dial_api: Api) -> None:
    token = await sign_in(dial_api, "1002", "demo-1002-password")
    status, body = await _post(dial_api, token, "/api/agents/1001/dial", {"number": "0701234567"})
    assert status == 403 and "1002" in body["error"]["message"], body


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, ["'number'", "required"]),
        ({"number": 701}, 400, ["'number'"]),
        ({"number": "07x"}, 400, ["'number'", "not a phone number"]),
        ({"number": "0900123456"}, 403, ["'number'", "0900", "blocked"]),
        ({"number": "4670123"}, 403, ["'number'", "only numbers starting 0"]),
        ({"number": "0701234567", "queue": "nope"}, 400, ["'queue'", "nope"]),
        ({"number": "0701234567", "queue": 5}, 400, ["'queue'"]),
        ({"number": "0701234567", "colour": "red"}, 400, ["colour"]),
        ({"number": "0701234567"}, 409, ["no device"]),  # 1001's phone is not registered
    ],
)
async def test_bad_dials_are_refused_naming_the_field(
    dial_api: Api, body: dict, status: int, words: list[str]
) -> None:
    got, answer = await dial_api.call("POST", "/api/agents/1001/dial", body)
    message = answer["error"]["message"]
    assert got == status and all(w in message for w in words), (got, message)


async def test_an_agent_logged_in_on_a_phone_number_is_rung_there_through_the_trunk(
    dial_api: Api,
) -> None:
    token = await sign_in(dial_api, "1002", "demo-1002-password")
    body = {"device": "pstn", "number": "0709998877"}
    status, _ = await _post(dial_api, token, "/api/agents/1002/login", body)
    assert status == 200
    status, answer = await _post(dial_api, token, "/api/agents/1002/dial", {"number": NUMBER})
    assert status == 201, answer
    stack = dial_api.server.calls
    assert stack is not None
    call = stack.controller.core.calls[answer["call"]["call_id"]]
    assert {a: o.device for a, o in call.offers.items()} == {"1002": "tel:0709998877"}
