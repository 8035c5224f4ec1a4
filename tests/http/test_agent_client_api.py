"""What the agent client and the admin pages need of the API (issue 16): state_since,
the offer with its screen pop, calendar deviations added at runtime, the grace period of
a lost agent client, editing a report subscription. Over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from acd import AgentState, Call
from calllog import CallEvent as CallLogEvent
from config import ConfigError, parse_config
from tests.support import demo_toml_with
from vaxel.server import VaxelServer
from vaxel.services.client_presence import lost_reason
from vaxel.services.screen_pop import fill, screen_pop_config

from .conftest import Api

STOCKHOLM = ZoneInfo("Europe/Stockholm")
LUNCH = {"name": "lunch", "status": "closed", "date": "2026-12-07", "time": "12:00-13:00"}
LUNCH_TIME = datetime(2026, 12, 7, 12, 30, tzinfo=STOCKHOLM)
AT_LUNCH = quote(LUNCH_TIME.isoformat())


async def sign_in(api: Api, user: str, password: str) -> str:
    async with api.session.post(
        api.url("/api/login"), json={"user": user, "password": password}
    ) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return body["token"]


async def as_user(api: Api, token: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with api.session.request(method, api.url(path), json=body, headers=headers) as resp:
        return resp.status, await resp.json()


# ---------------------------------------------------------------------- state_since


async def test_agents_carry_since_when_they_are_in_their_state(api: Api) -> None:
    status, body = await api.call("GET", "/api/agents/1001")
    assert status == 200 and body["agent"]["state_since"] is None  # offline since the start
    before = time.time()
    await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    await api.call("POST", "/api/agents/1001/pause", {"reason": "lunch"})
    _, body = await api.call("GET", "/api/agents")
    agent = next(a for a in body["agents"] if a["id"] == "1001")
    since = datetime.fromisoformat(agent["state_since"]).timestamp()
    assert agent["state"] == "paused" and before - 1 <= since <= time.time() + 1


# ---------------------------------------------------------------------- the offer


async def test_the_offer_and_its_screen_pop_are_shown_to_the_agent_only(
    api: Api, tmp_path: Path
) -> None:
    stack = api.server.calls
    stack.runner.sink = lambda commands: None  # no phone rings: only the ACD's view
    await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    call = Call(id="c-1@host", queue="support", a_number="+46 70 123")
    stack.runner.run(stack.acd.call_arrived, call)
    assert stack.acd.agent_view("1001").state is AgentState.RINGING
    own = await sign_in(api, "1001", "demo-1001-password")
    status, body = await as_user(api, own, "GET", "/api/agents/1001")
    assert status == 200, body
    offer = body["offer"]
    assert offer["call_id"] == "c-1@host" and offer["a_number"] == "+46 70 123", offer
    assert offer["queue"] == "support" and offer["screen_pop"] is None  # none configured
    # Another agent sees the state, not the caller's number.
    other = await sign_in(api, "1002", "demo-1002-password")
    status, body = await as_user(api, other, "GET", "/api/agents/1001")
    assert status == 200 and body["agent"]["state"] == "ringing" and body["offer"] is None


def test_screen_pop_placeholders_are_url_encoded_and_unknown_values_empty() -> None:
    url = fill(
        "https://crm.example/?ano={ANO}&id={AID}&c={CUSTID}&q={QUEUE}&n={NAME}&co={COMP}",
        {"ANO": "+46 70", "AID": "a@b/c&d", "CUSTID": None, "QUEUE": "support", "NAME": "Åsa"},
    )
    assert url == "https://crm.example/?ano=%2B46%2070&id=a%40b%2Fc%26d&c=&q=support&n=%C3%85sa&co="


def test_the_most_specific_screen_pop_wins_and_unknown_placeholders_are_refused(
    tmp_path: Path,
) -> None:
    extra = """
[screen_pop]
url = "https://system.example/{ANO}"

[queues.support.screen_pop]
url = "https://queue.example/{AID}"
open = "frame"
"""
    text = demo_toml_with(tmp_path, extra=extra).replace(
        "[agents.1004]\n", '[agents.1004]\nscreen_pop = { url = "https://agent.example/{QUEUE}" }\n'
    )
    config = parse_config(text, source="test.toml")
    assert screen_pop_config(config, "1004", "support").url == "https://agent.example/{QUEUE}"
    pop = screen_pop_config(config, "1001", "support")
    assert pop is not None and pop.url == "https://queue.example/{AID}" and pop.open == "frame"
    assert screen_pop_config(config, "1001", "sales").url == "https://system.example/{ANO}"
    bad = demo_toml_with(tmp_path, extra='[screen_pop]\nurl = "https://x.example/{CALLER}"\n')
    with pytest.raises(ConfigError, match=r"unknown placeholder.*\{CALLER\}.*known: \{ANO\}"):
        parse_config(bad, source="test.toml")


# ---------------------------------------------------------------------- classification


async def test_a_queue_shows_its_classification_codes(tmp_path: Path) -> None:
    extra = '[classification_profiles.support]\ncodes = ["sale", "question"]\n'
    text = demo_toml_with(
        tmp_path,
        replace={'voicemail_email = "support@localhost"\n': 'voicemail_email = '
                 '"support@localhost"\nclassification_profile = "support"\n'},
        extra=extra,
    )  # fmt: skip
    server = VaxelServer(parse_config(text, source="test.toml"), base_dir=tmp_path)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(server, session, server.http_url)
            _, body = await api.call("GET", "/api/queues/support")
            assert body["queue"]["classification"] == {
                "profile": "support", "codes": ["sale", "question"], "required": True
            }  # fmt: skip
            _, body = await api.call("GET", "/api/queues/sales")
            assert body["queue"]["classification"] is None
    finally:
        await server.stop()


# ---------------------------------------------------------------------- deviations


async def test_a_deviation_added_through_the_api_is_in_force_at_once_and_audited(
    api: Api,
) -> None:
    _, before = await api.call("GET", f"/api/calendars/base/status?at={AT_LUNCH}")
    assert before["open"] is True and before["deviation"] is None
    status, body = await api.call("POST", "/api/calendars/base/deviations", LUNCH)
    assert status == 201, body
    assert body["index"] == 0 and body["deviation"]["name"] == "lunch", body
    _, after = await api.call("GET", f"/api/calendars/base/status?at={AT_LUNCH}")
    assert after["open"] is False and after["deviation"]["name"] == "lunch", after
    # The running calendars (what callers get) too, and the queues that use base.
    lunch = LUNCH_TIME
    assert api.server.calls.calendars.status("support", lunch).open is False
    _, queue_view = await api.call("GET", f"/api/calendars/support/status?at={AT_LUNCH}")
    assert queue_view["open"] is False
    _, audit = await api.call("GET", "/api/audit?limit=5")
    assert audit["entries"][0]["action"] == "config.calendars.changed", audit["entries"][0]
    _, listing = await api.call("GET", "/api/calendars/base/deviations")
    assert listing["deviations"][0]["name"] == "lunch" and listing["deviations"][0]["id"] == 0

    status, body = await api.call("DELETE", "/api/calendars/base/deviations/0")
    assert status == 200, body
    _, again = await api.call("GET", f"/api/calendars/base/status?at={AT_LUNCH}")
    assert again["open"] is True
    assert api.server.calls.calendars.status("support", lunch).open is True
    status, body = await api.call("DELETE", "/api/calendars/base/deviations/0")
    assert status == 404 and "no deviation 0" in body["error"]["message"], body


BAD_DEVIATIONS: list[tuple[dict[str, Any], str]] = [
    ({"status": "shut"}, "status"),
    ({"status": "closed", "time": "12-13"}, "time"),
    ({"status": "closed", "date": "tomorrow"}, "date"),
    ({"status": "closed", "weekdays": ["funday"]}, "weekdays"),
    ({"status": "closed", "colour": "red"}, "colour"),
    ({"name": "lunch"}, "status"),
]


async def test_a_bad_deviation_is_refused_naming_the_field(api: Api) -> None:
    for body, field in BAD_DEVIATIONS:
        status, out = await api.call("POST", "/api/calendars/base/deviations", body)
        assert status == 400 and field in str(out["error"]), (body, out)
    _, listing = await api.call("GET", "/api/calendars/base/deviations")
    assert listing["deviations"] == []  # nothing stored


async def test_a_deviation_for_a_queue_id_names_the_calendar_to_use(api: Api) -> None:
    status, out = await api.call("POST", "/api/calendars/support/deviations", LUNCH)
    assert status == 404 and "support" in out["error"]["message"], out


async def test_an_added_deviation_survives_a_restart(tmp_path: Path) -> None:
    config_text = demo_toml_with(tmp_path)
    for round_ in range(2):
        server = VaxelServer(parse_config(config_text, source="t.toml"), base_dir=tmp_path)
        await server.start()
        try:
            async with aiohttp.ClientSession() as session:
                api = Api(server, session, server.http_url)
                if round_ == 0:
                    status, _ = await api.call("POST", "/api/calendars/base/deviations", LUNCH)
                    assert status == 201
                _, out = await api.call("GET", f"/api/calendars/base/status?at={AT_LUNCH}")
                assert out["open"] is False, (round_, out)
        finally:
            await server.stop()


# ---------------------------------------------------------------------- grace period


@pytest.fixture
async def short_grace(tmp_path: Path) -> AsyncIterator[Api]:
    text = demo_toml_with(tmp_path, extra="[web]\nclient_grace_seconds = 1.0\n")
    server = VaxelServer(parse_config(text, source="test.toml"), base_dir=tmp_path)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(server, session, server.http_url)
    finally:
        await server.stop()


async def _until(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_a_lost_agent_client_logs_the_agent_out_after_the_grace_period(
    short_grace: Api,
) -> None:
    api = short_grace
    acd = api.server.calls.acd
    token = await sign_in(api, "1001", "demo-1001-password")
    events = api.url(f"/api/events?token={token}")
    ws = await api.session.ws_connect(events)
    status, body = await as_user(
        api, token, "POST", "/api/agents/1001/login", {"device": "sip", "client": True}
    )
    assert status == 200, body
    await as_user(api, token, "POST", "/api/agents/1001/pause", {"reason": "lunch"})

    # Lost and back inside the grace period: the agent is as they were.
    await ws.close()
    await asyncio.sleep(0.3)
    ws = await api.session.ws_connect(events)
    await asyncio.sleep(1.5)  # longer than the grace period
    view = acd.agent_view("1001")
    assert view.state is AgentState.PAUSED and view.pause_reason == "lunch"

    # Lost for good: logged out once the grace period has passed, not before.
    await ws.close()
    await asyncio.sleep(0.3)
    assert acd.agent_view("1001").state is AgentState.PAUSED
    assert await _until(lambda: acd.agent_view("1001").state is AgentState.OFFLINE, 10)
    await asyncio.sleep(0.3)
    logouts = await api.server.calllog.events(agent="1001", kind="logout")
    assert logouts and logouts[-1].data["reason"] == lost_reason(1.0), logouts


async def test_a_login_not_from_the_agent_client_outlives_a_lost_stream(
    short_grace: Api,
) -> None:
    api = short_grace
    token = await sign_in(api, "1001", "demo-1001-password")
    ws = await api.session.ws_connect(api.url(f"/api/events?token={token}"))
    status, _ = await as_user(api, token, "POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200
    await ws.close()
    await asyncio.sleep(2.0)
    assert api.server.calls.acd.agent_view("1001").state is AgentState.READY
    status, out = await as_user(
        api, token, "POST", "/api/agents/1001/login", {"device": "sip", "client": "yes"}
    )
    assert status == 400 and "'client'" in out["error"]["message"]


# ---------------------------------------------------------------------- hang up


async def test_hanging_up_a_call_that_is_not_there_is_a_404(api: Api) -> None:
    status, out = await api.call("POST", "/api/calls/nope/hangup")
    assert status == 404 and "no call 'nope'" in out["error"]["message"], out


# ---------------------------------------------------------------------- subscriptions


async def test_a_report_subscription_is_edited_in_place(api: Api) -> None:
    status, sub = await api.call(
        "POST",
        "/api/report-subscriptions",
        {"email": "a@example.com", "owner": "boss", "report": "key_figures",
         "periodicity": "daily"},
    )  # fmt: skip
    assert status == 201, sub
    path = f"/api/report-subscriptions/{sub['id']}"
    status, out = await api.call("PATCH", path, {"periodicity": "weekly", "queues": ["sales"]})
    assert status == 200, out
    assert out["periodicity"] == "weekly" and out["queues"] == ["sales"]
    assert out["email"] == "a@example.com" and out["id"] == sub["id"]
    status, out = await api.call("PATCH", path, {"email": "not-an-address"})
    assert status == 400 and out["error"]["param"] == "email", out
    status, out = await api.call("PATCH", path, {"colour": "red"})
    assert status == 400 and out["error"]["param"] == "colour", out
    status, out = await api.call("PATCH", "/api/report-subscriptions/999", {"owner": "x"})
    assert status == 404


async def test_the_screen_pop_carries_the_customer_number_keyed_in_the_ivr(
    tmp_path: Path,
) -> None:
    extra = '[screen_pop]\nurl = "https://crm.example/c?n={CUSTID}&who={NAME}&co={COMP}"\n'
    text = demo_toml_with(tmp_path, extra=extra)
    server = VaxelServer(parse_config(text, source="test.toml"), base_dir=tmp_path)
    await server.start()
    try:
        stack = server.calls
        stack.runner.sink = lambda commands: None
        # What the IVR's customer-number step logs for the call (with the CRM's match).
        await server.calllog.append(
            CallLogEvent("c-7", "customer_number", data={"digits": "4711", "matched": True,
                                                         "customer_id": "4711",
                                                         "name": "Åsa & Co"})
        )  # fmt: skip
        stack.runner.run(stack.acd.agent_login, "1001", "sip:1001", None)
        stack.runner.run(stack.acd.call_arrived, Call(id="c-7", queue="support"))
        async with aiohttp.ClientSession() as session:
            api = Api(server, session, server.http_url)
            _, body = await api.call("GET", "/api/agents/1001")
        offer = body["offer"]
        assert offer["customer_number"] == "4711" and offer["customer_name"] == "Åsa & Co"
        assert offer["screen_pop"] == {
            "url": "https://crm.example/c?n=4711&who=%C3%85sa%20%26%20Co&co=",
            "open": "tab",
        }
    finally:
        await server.stop()


async def test_after_a_restart_the_agent_client_has_the_grace_period_to_reconnect(
    tmp_path: Path,
) -> None:
    text = demo_toml_with(tmp_path, extra="[web]\nclient_grace_seconds = 1.5\n")
    for round_ in range(3):
        server = VaxelServer(parse_config(text, source="t.toml"), base_dir=tmp_path)
        await server.start()
        try:
            async with aiohttp.ClientSession() as session:
                api = Api(server, session, server.http_url)
                acd = server.calls.acd
                token = await sign_in(api, "1001", "demo-1001-password")
                if round_ == 0:  # logged in from the client, then the server restarts
                    body = {"device": "sip", "client": True}
                    status, _ = await as_user(api, token, "POST", "/api/agents/1001/login", body)
                    assert status == 200
                    ws = await session.ws_connect(api.url(f"/api/events?token={token}"))
                    await ws.close()
                elif round_ == 1:  # the page reconnects in time: still logged in
                    assert acd.agent_view("1001").state is AgentState.READY
                    ws = await session.ws_connect(api.url(f"/api/events?token={token}"))
                    await asyncio.sleep(2.0)
                    assert acd.agent_view("1001").state is AgentState.READY
                    await ws.close()
                    await asyncio.sleep(0.2)  # the server stops inside the grace period
                else:  # restored, but no page comes back
                    assert acd.agent_view("1001").state is AgentState.READY
                    assert await _until(
                        lambda a=acd: a.agent_view("1001").state is AgentState.OFFLINE, 10
                    )
        finally:
            await server.stop()
