"""End-to-end answering service: a SIPp caller dials company Acme's B-number, a SIPp UAS
registered as agent 1001 answers through the ACD; the agent sees the company (its agent
view and ``GET /api/calls/CALL/company``) with Eva's absence note, takes a message for her,
and the message reaches a real SMTP server (aiosmtpd) and the call's log."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from config import parse_config
from tests.answering.companies import ACME_NUMBER, config_text
from tests.http.report_fixtures import Mailbox
from tests.peers.sipp import Sipp
from tests.support import free_port
from vaxel.server import VaxelServer

from .conftest import RunningVaxel, sipp_register

pytestmark = pytest.mark.interop
CALLER = "0705556677"


async def api(
    http: aiohttp.ClientSession, vaxel: RunningVaxel, method: str, path: str, token: str,
    body: Any = None,
) -> tuple[int, Any]:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, vaxel.http + path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def poll(what: str, fetch: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await fetch()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_agent_answers_a_company_call_sees_its_staff_and_mails_a_message(
    tmp_path: Path,
) -> None:
    box = Mailbox()
    smtp_port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    text = config_text(tmp_path, {"port = 8025": f"port = {smtp_port}"})
    config = parse_config(text, source="t.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    vaxel = RunningVaxel(server, config, tmp_path)
    uas: Sipp | None = None
    try:
        uas_port, echo_port = free_port(), free_port(both=False)
        uas = Sipp(tmp_path / "uas", "-rtp_echo", builtin="uas", port=uas_port, timeout=40,
                   media_port=echo_port)  # fmt: skip
        await uas.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", uas_port)
        assert reg.returncode == 0, reg.explain()
        async with aiohttp.ClientSession() as http:
            agent_token = await _sign_in(http, vaxel, "1001", "demo-1001-password")
            status, body = await api(http, vaxel, "POST", "/api/agents/1001/login", agent_token,
                                     {"device": "sip"})  # fmt: skip
            assert status == 200, body

            ws = await http.ws_connect(f"{vaxel.http}/api/events?token={agent_token}")
            caller = Sipp(tmp_path / "uac", scenario="call_then_hang_up.xml",
                          target=vaxel.sip_target, timeout=40)  # fmt: skip
            caller.cmd += ["-s", ACME_NUMBER, "-key", "caller", CALLER, "-d", "15000"]
            await caller.start()

            async def on_call() -> Any:
                s, b = await api(http, vaxel, "GET", "/api/agents/1001", agent_token)
                agent = b.get("agent", b)
                return agent if s == 200 and agent.get("call_id") else None

            agent = await poll("agent 1001 to take the call", on_call)
            # The ACD's offer, as the agent's screen gets it, names the company.
            offered = await _next_call_event(ws, "offered")
            assert offered["company"] == {"id": "acme", "name": "Acme AB"}, offered
            await ws.close()
            assert agent["company"] == {"id": "acme", "name": "Acme AB"}, agent
            call_id = agent["call_id"]
            status, body = await api(http, vaxel, "GET", f"/api/calls/{call_id}/company",
                                     agent_token)  # fmt: skip
            assert status == 200, body
            eva = next(s for s in body["company"]["staff"] if s["name"] == "Eva Ek")
            assert eva["absent"] and eva["absence"]["note"] == "On holiday, back 7 January"
            assert body["company"]["instructions"].startswith("Answer: Acme")
            # The supervisor's list of live calls carries the company too.
            status, body = await api(http, vaxel, "GET", "/api/calls", "demo-admin-token")
            (live,) = body["calls"]
            assert live["company"]["id"] == "acme" and live["b_number"] == ACME_NUMBER

            status, body = await api(
                http, vaxel, "POST", f"/api/companies/acme/staff/{eva['id']}/messages",
                agent_token,
                {"caller": "Kim Berg", "number": CALLER, "text": "Call me about invoice 4711",
                 "call_id": call_id},
            )  # fmt: skip
            assert status == 201 and body["message"]["mail_status"] == "sent", body
            (mail,) = await box.wait_for(1)
            assert mail["To"] == "eva@acme.example" and "Kim Berg" in mail["Subject"]
            assert "Call me about invoice 4711" in mail.get_content()

            res = await caller.wait()
            assert res.returncode == 0, res.explain()
        await asyncio.sleep(0.5)
        events = [e for e in await server.calllog.events() if e.call_id == call_id]
        kinds = [e.kind for e in events]
        for kind in ("company", "queued", "offered", "answered", "message_taken", "hangup"):
            assert kind in kinds, kinds
        assert kinds.index("company") < kinds.index("queued") < kinds.index("message_taken")
        taken = next(e for e in events if e.kind == "message_taken")
        assert taken.data["staff"] == eva["id"] and taken.agent == "1001", taken
        answered = next(e for e in events if e.kind == "answered")
        assert answered.agent == "1001" and answered.queue == "support"  # the control queue
    finally:
        if uas is not None:
            await uas.stop()
        await server.stop()
        controller.stop()


async def _next_call_event(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict:
    async with asyncio.timeout(10):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            event = json.loads(msg.data)
            if event["type"] == "call_event" and event["kind"] == kind:
                return event


async def _sign_in(
    http: aiohttp.ClientSession, vaxel: RunningVaxel, user: str, password: str
) -> str:
    async with http.post(
        vaxel.http + "/api/login", json={"user": user, "password": password}
    ) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return str(body["token"])
