"""The bearer token guards every API route but health and the OpenAPI document."""

from __future__ import annotations

from tests.http.conftest import Api


async def test_missing_token_is_401(api: Api) -> None:
    async with api.session.get(api.url("/api/agents")) as resp:
        assert resp.status == 401
        assert "missing API token" in (await resp.json())["error"]["message"]


async def test_invalid_token_is_403_and_changes_nothing(api: Api) -> None:
    headers = {"Authorization": "Bearer not-the-token"}
    async with api.session.post(
        api.url("/api/agents/1001/login"), json={"device": "sip"}, headers=headers
    ) as resp:
        assert resp.status == 403
    assert api.server.calls.acd.agent_view("1001").state.value == "offline"


async def test_websocket_without_token_is_refused_before_upgrade(api: Api) -> None:
    async with api.session.get(api.url("/api/events")) as resp:
        assert resp.status == 401


async def test_openapi_and_health_need_no_token(api: Api) -> None:
    for path in ("/api/openapi.json", "/api/health"):
        async with api.session.get(api.url(path)) as resp:
            assert resp.status == 200, path
