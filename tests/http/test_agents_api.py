"""Agent state over real HTTP: login, logout, pause, ready, wrap-up, and the errors."""

from __future__ import annotations

import socket

import pytest

from tests.http.conftest import Api, register_phone


async def test_agent_list_shows_every_configured_agent_logged_out_at_start(api: Api) -> None:
    status, body = await api.call("GET", "/api/agents")
    assert status == 200
    ids = [a["id"] for a in body["agents"]]
    assert ids == list(api.server.config.agents)
    one = body["agents"][0]
    assert one["name"] == "Agent One"
    assert one["state"] == "offline"
    assert one["device"] is None
    assert one["registered_contacts"] == []
    assert one["member_of"] == ["support", "sales"]


async def test_sip_login_makes_the_agent_ready_in_the_preselected_groups(api: Api) -> None:
    status, body = await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200
    agent = body["agent"]
    assert agent["state"] == "ready"
    assert agent["device"] == "sip:1001"
    assert agent["device_kind"] == "sip"
    assert agent["groups"] == ["support"]
    # The ACD itself agrees (not just the response).
    assert api.server.calls.acd.agent_view("1001").state.value == "ready"


async def test_sip_login_without_a_registered_phone_is_accepted_with_a_warning(
    api: Api,
) -> None:
    # Accepted (the phone may register a moment later), but the caller is told.
    status, body = await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200
    assert body["agent"]["state"] == "ready"
    (warning,) = body["warnings"]
    assert warning.startswith("no phone is registered for agent '1001'")


async def test_sip_login_with_a_registered_phone_has_no_warnings(
    api: Api, silent_phone: socket.socket
) -> None:
    register_phone(api, "1001", silent_phone)
    status, body = await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200 and body["warnings"] == []
    assert len(body["agent"]["registered_contacts"]) == 1


async def test_pstn_and_remote_logins_do_not_warn_about_sip_phones(api: Api) -> None:
    _, body = await api.call("POST", "/api/agents/1003/login", {"device": "remote"})
    assert body["warnings"] == []


async def test_login_with_named_groups_uses_them(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/agents/1004/login", {"device": "sip", "groups": ["support", "sales"]}
    )
    assert status == 200
    assert body["agent"]["groups"] == ["sales", "support"]


async def test_pstn_login_rings_the_given_number_through_the_trunk(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/agents/1002/login", {"device": "pstn", "number": "070-123 45 67"}
    )
    assert status == 200
    assert body["agent"]["device"] == "tel:0701234567"
    assert body["agent"]["device_kind"] == "pstn"


async def test_remote_login_uses_the_configured_remote_number(api: Api) -> None:
    status, body = await api.call("POST", "/api/agents/1003/login", {"device": "remote"})
    assert status == 200
    assert body["agent"]["device"] == "tel:0701001003"
    assert body["agent"]["device_kind"] == "remote"


async def test_logging_in_another_way_replaces_the_earlier_login(api: Api) -> None:
    await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    status, body = await api.call("POST", "/api/agents/1001/login", {"device": "remote"})
    assert status == 200
    assert body["agent"]["state"] == "ready"
    assert body["agent"]["device"] == "tel:0701001001"


async def test_logout_takes_a_ready_agent_offline(api: Api) -> None:
    await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    status, body = await api.call("POST", "/api/agents/1001/logout")
    assert status == 200
    assert body["agent"]["state"] == "offline"
    assert body["agent"]["groups"] == []


async def test_pause_keeps_the_reason_and_ready_clears_it(api: Api) -> None:
    await api.call("POST", "/api/agents/1002/login", {"device": "sip"})
    status, body = await api.call("POST", "/api/agents/1002/pause", {"reason": "lunch"})
    assert status == 200
    assert body["agent"]["state"] == "paused"
    assert body["agent"]["pause_reason"] == "lunch"
    _, listed = await api.call("GET", "/api/agents/1002")
    assert listed["agent"]["pause_reason"] == "lunch"

    status, body = await api.call("POST", "/api/agents/1002/ready")
    assert status == 200
    assert body["agent"]["state"] == "ready"
    assert body["agent"]["pause_reason"] is None


async def test_wrapup_done_outside_wrap_up_changes_nothing(api: Api) -> None:
    await api.call("POST", "/api/agents/1002/login", {"device": "sip"})
    status, body = await api.call(
        "POST", "/api/agents/1002/wrapup_done", {"classification": "sale"}
    )
    assert status == 200
    assert body["agent"]["state"] == "ready"


async def test_unknown_agent_is_404_on_reads_and_actions(api: Api) -> None:
    for method, path, payload in [
        ("GET", "/api/agents/9999", None),
        ("POST", "/api/agents/9999/login", {"device": "sip"}),
        ("POST", "/api/agents/9999/pause", {"reason": "x"}),
    ]:
        status, body = await api.call(method, path, payload)
        assert status == 404, path
        assert body["error"] == {"status": 404, "message": "unknown agent '9999'"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"device": "pstn"}, "'number'"),
        ({"device": "pstn", "number": "call me"}, "'number'"),
        ({"device": "sip", "number": "0701234567"}, "'number'"),
        ({}, "'device'"),
        ({"device": "fax"}, "'device'"),
        ({"device": "sip", "groups": "support"}, "'groups'"),
        ({"device": "sip", "groups": ["billing"]}, "'groups'"),
        ({"device": "sip", "colour": "green"}, "'colour'"),
    ],
)
async def test_invalid_login_body_is_400_naming_the_field(
    api: Api, payload: dict, field: str
) -> None:
    status, body = await api.call("POST", "/api/agents/1001/login", payload)
    assert status == 400
    assert field in body["error"]["message"]
    assert api.server.calls.acd.agent_view("1001").state.value == "offline"


async def test_pause_without_reason_is_400_naming_reason(api: Api) -> None:
    await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    status, body = await api.call("POST", "/api/agents/1001/pause", {})
    assert status == 400
    assert "'reason'" in body["error"]["message"]


async def test_malformed_json_is_400_saying_so(api: Api) -> None:
    status, body = await api.call("POST", "/api/agents/1001/login", raw='{"device": "sip",')
    assert status == 400
    assert body["error"]["message"].startswith("request body is not valid JSON")


async def test_json_that_is_not_an_object_is_400(api: Api) -> None:
    status, body = await api.call("POST", "/api/agents/1001/login", raw='["sip"]')
    assert status == 400
    assert "expected a JSON object, got list" in body["error"]["message"]


async def test_pausing_a_logged_out_agent_is_refused_with_the_acd_reason(api: Api) -> None:
    status, body = await api.call("POST", "/api/agents/1003/pause", {"reason": "meeting"})
    assert status == 409
    assert "log in first" in body["error"]["message"]


async def test_ready_while_logged_out_is_409(api: Api) -> None:
    status, body = await api.call("POST", "/api/agents/1003/ready")
    assert status == 409
    assert "logged out" in body["error"]["message"]
