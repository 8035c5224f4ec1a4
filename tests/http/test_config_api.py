"""Administration at run time through /api/config: validated like the file, versioned
(ETag / If-Match), applied to the running ACD, audited, and kept in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from config import parse_config
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

from .conftest import TOKEN, Api


async def req(
    api: Api, method: str, path: str, body: Any = None, *, if_match: str | None = None
) -> tuple[int, Any, str | None]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if if_match is not None:
        headers["If-Match"] = if_match
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    async with api.session.request(method, api.url(path), **kwargs) as resp:
        return resp.status, await resp.json(), resp.headers.get("ETag")


async def test_get_change_with_etag_and_the_acd_uses_it(api: Api) -> None:
    status, body, tag = await req(api, "GET", "/api/config/queues/support")
    assert status == 200 and body["document"]["ring_timeout"] == 15.0 and tag
    # Without If-Match an existing entity is not changed (428), with a stale one 412.
    status, body, _ = await req(api, "PATCH", "/api/config/queues/support", {"ring_timeout": 7})
    assert status == 428 and "If-Match" in body["error"]["message"], body
    status, body, new_tag = await req(
        api, "PATCH", "/api/config/queues/support", {"ring_timeout": 7}, if_match=tag
    )
    assert status == 200 and body["document"]["ring_timeout"] == 7.0 and new_tag != tag
    assert api.server.calls is not None
    assert api.server.calls.acd.queue_config("support").ring_timeout == 7.0
    status, body, _ = await req(
        api, "PATCH", "/api/config/queues/support", {"ring_timeout": 9}, if_match=tag
    )
    assert status == 412 and "meanwhile" in body["error"]["message"], body
    # Audited with before and after.
    entries = [e for e in await api.server.audit.entries() if e.target == "queues/support"]
    assert entries[0].action == "config.queues.changed"
    assert entries[0].before["ring_timeout"] == 15.0 and entries[0].after["ring_timeout"] == 7.0


async def test_refusal_names_the_field_and_the_reason(api: Api) -> None:
    _, _, tag = await req(api, "GET", "/api/config/queues/support")
    status, body, _ = await req(
        api, "PATCH", "/api/config/queues/support", {"ring_timeout": -1}, if_match=tag
    )
    assert status == 400, body
    problem = body["error"]["problems"][0]
    assert problem["field"] == "queues.support.ring_timeout"
    assert "greater than 0" in problem["reason"], problem
    # A reference to something unknown: the whole configuration is checked.
    status, body, _ = await req(
        api, "PATCH", "/api/config/queues/support", {"answer_groups": ["nope"]}, if_match=tag
    )
    assert status == 400 and "unknown answer group 'nope'" in body["error"]["message"], body
    assert body["error"]["problems"][0]["field"] == "queues.support.answer_groups"


async def test_create_and_delete_an_agent_and_a_pause_reason(api: Api) -> None:
    agent = {"name": "New One", "sip_password": "secret2001", "answer_groups": ["support"]}
    agent["skill_levels"] = {"support": 2}
    status, body, tag = await req(api, "PUT", "/api/config/agents/2001", agent)
    assert status == 201, body
    assert api.server.calls is not None
    acd = api.server.calls.acd
    assert acd.agent_config("2001").level_in("support") == 2
    assert api.server.calls.directory.sip_password("2001") == "secret2001"
    # Logged in: it cannot be deleted (409 naming the login).
    api.server.calls.runner.run(acd.agent_login, "2001", "sip:2001", None)
    status, body, _ = await req(api, "DELETE", "/api/config/agents/2001", if_match=tag)
    assert status == 409 and "agent 2001 (ready)" in body["error"]["message"], body
    api.server.calls.runner.run(acd.agent_logout, "2001")
    status, body, _ = await req(api, "DELETE", "/api/config/agents/2001", if_match=tag)
    assert status == 200, body
    assert "2001" not in api.server.config.agents
    status, _, _ = await req(api, "PUT", "/api/config/pause_reasons/lunch", {"name": "Lunch"})
    assert status == 201
    status, body, _ = await req(api, "GET", "/api/config/pause_reasons")
    assert body["items"]["lunch"]["document"] == {"name": "Lunch"}
    # With pause reasons defined, a pause names one of them.
    status, body, _ = await req(api, "POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200, body
    status, body, _ = await req(api, "POST", "/api/agents/1001/pause", {"reason": "nap"})
    assert status == 400 and "'nap' is not a pause reason (one of lunch)" in str(body), body
    status, body, _ = await req(api, "POST", "/api/agents/1001/pause", {"reason": "lunch"})
    assert status == 200 and body["agent"]["pause_reason"] == "lunch", body


async def test_calendar_deviation_added_and_removed(api: Api) -> None:
    deviation = {"status": "closed", "date": "2026-12-30", "time": "12:00-13:00", "name": "lunch"}
    status, body, _ = await req(api, "POST", "/api/calendars/base/deviations", deviation)
    assert status == 201 and body["index"] == 0, body
    assert body["deviation"] == deviation
    assert api.server.calls is not None
    assert len(api.server.calls.calendars.base.config.deviations) == 1
    status, body, _ = await req(api, "POST", "/api/calendars/base/deviations", {"date": "x"})
    assert status == 400 and "calendars.base.deviations.new" in body["error"]["message"], body
    status, body, _ = await req(api, "DELETE", "/api/calendars/base/deviations/0")
    assert status == 200, body
    assert not api.server.calls.calendars.base.config.deviations
    status, body, _ = await req(api, "DELETE", "/api/calendars/base/deviations/0")
    assert status == 404


async def test_the_database_wins_over_the_file_after_a_restart(tmp_path: Path) -> None:
    config = parse_config(demo_toml_with(tmp_path), source="test.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(server, session, server.http_url)
            _, _, tag = await req(api, "GET", "/api/config/queues/sales")
            status, body, _ = await req(
                api, "PATCH", "/api/config/queues/sales", {"priority": 9}, if_match=tag
            )
            assert status == 200, body
    finally:
        await server.stop()
    server = VaxelServer(config, base_dir=tmp_path)  # the same file, priority 5 in it
    await server.start()
    try:
        assert server.config.queues["sales"].priority == 9
        assert server.calls is not None and server.calls.acd.queue_config("sales").priority == 9
    finally:
        await server.stop()


async def test_voicemail_mail_follows_the_queue_language_changed_at_run_time(api: Api) -> None:
    assert api.server.calls is not None
    locales = api.server.calls.voicemail.mailbox_locales
    # The demo: server.language sv, the base calendar in Europe/Stockholm.
    assert locales[("support", None)] == ("sv", "Europe/Stockholm")
    _, _, tag = await req(api, "GET", "/api/config/queues/support")
    status, body, _ = await req(
        api, "PATCH", "/api/config/queues/support", {"language": "en"}, if_match=tag
    )
    assert status == 200, body
    locales = api.server.calls.voicemail.mailbox_locales
    assert locales[("support", None)] == ("en", "Europe/Stockholm")


async def test_bad_keys_and_types_are_refused_naming_the_field(api: Api) -> None:
    status, body, _ = await req(
        api, "PUT", "/api/config/queues/bad%20id", {"answer_groups": ["support"]}
    )
    assert status == 400 and "queues.bad id" in body["error"]["message"], body
    status, body, _ = await req(
        api, "PUT", "/api/config/agents/2002", {"name": "X", "sip_password": "s", "pin": 12}
    )
    assert status == 400, body
    fields = {p["field"] for p in body["error"]["problems"]}
    assert fields == {"agents.2002.sip_password", "agents.2002.pin"}, body
    status, body, _ = await req(api, "PUT", "/api/config/nonsense/x", {})
    assert status == 404 and "unknown kind" in body["error"]["message"], body
    status, body, _ = await req(api, "PUT", "/api/config/numbers/555", [1])
    assert status == 400, body
    # Nothing of it was stored.
    assert "2002" not in api.server.config.agents


async def test_a_new_queue_is_known_to_the_wallboard_and_reports_a_deleted_one_not(
    api: Api,
) -> None:
    status, body, tag = await req(
        api, "PUT", "/api/config/queues/billing", {"answer_groups": ["support"]}
    )
    assert status == 201, body
    assert api.server.reports is not None
    assert "billing" in api.server.reports.live.snapshots()
    status, body, _ = await req(
        api,
        "GET",
        "/api/reports/key_figures?from=2026-03-10T09:00&to=2026-03-10T10:00&queue=billing",
    )
    assert status == 200, body
    status, body, _ = await req(api, "DELETE", "/api/config/queues/billing", if_match=tag)
    assert status == 200, body
    assert "billing" not in api.server.reports.live.snapshots()


async def test_an_agent_a_user_works_as_is_not_deleted(api: Api) -> None:
    _, _, tag = await req(api, "GET", "/api/config/agents/1002")
    status, body, _ = await req(api, "DELETE", "/api/config/agents/1002", if_match=tag)
    assert status == 409 and "user 1002 (works as it)" in body["error"]["message"], body
    assert "1002" in api.server.config.agents
