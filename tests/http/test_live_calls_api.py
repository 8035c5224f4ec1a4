"""Live calls: the controller's calls with their state and running times."""

from __future__ import annotations

from acd.core import CallView
from acd.model import Call
from callcore import CallState, Target
from tests.http.conftest import Api
from vaxel.http.live_routes import live_call_json


async def test_no_calls_when_idle(api: Api) -> None:
    status, body = await api.call("GET", "/api/calls")
    assert status == 200
    assert body == {"calls": []}


def _call(**kw: object) -> CallState:
    call = CallState(
        key="c1",
        request_id="r1",
        sip_call_id="c1",
        a_number="0701",
        b_number="100",
        language="sv",
        target=Target(queue="support"),
        started_at=1000.0,
        queue="support",
    )
    for name, value in kw.items():
        setattr(call, name, value)
    return call


def test_a_call_in_prompts_is_in_ivr_with_no_wait_yet() -> None:
    out = live_call_json(_call(), None, now=1004.0)
    assert out["state"] == "ivr"
    assert out["duration_seconds"] == 4.0
    assert out["wait_seconds"] is None and out["talk_seconds"] is None


def test_a_ringing_call_names_the_ringing_agents_and_counts_its_wait() -> None:
    view = CallView(Call("c1", "support"), "ringing", ("1001",), 1005.0, 1020.0)
    out = live_call_json(_call(enqueued_at=1005.0, in_acd=True), view, now=1012.5)
    assert out["state"] == "ringing"
    assert out["ringing_agents"] == ["1001"]
    assert out["wait_seconds"] == 7.5


def test_a_connected_call_has_its_agent_a_frozen_wait_and_a_running_talk_time() -> None:
    call = _call(enqueued_at=1005.0, connected_at=1025.0, agent="1002", in_acd=True)
    out = live_call_json(call, None, now=1060.0)
    assert out["state"] == "connected"
    assert out["agent"] == "1002"
    assert out["wait_seconds"] == 20.0
    assert out["talk_seconds"] == 35.0
