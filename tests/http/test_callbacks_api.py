"""GET /api/callbacks: what it refuses, and that agents (no view_calls) cannot see numbers."""

from __future__ import annotations

from tests.http.conftest import Api
from tests.http.test_access_matrix import sign_in, status_of


async def test_an_unknown_status_is_refused_naming_the_parameter(api: Api) -> None:
    status, body = await api.call("GET", "/api/callbacks?status=lost")
    message = body["error"]["message"]
    assert status == 400 and "'status'" in message and "pending" in message, body
    status, body = await api.call("GET", "/api/callbacks?since=yesterday")
    assert status == 400 and "'since'" in body["error"]["message"], body


async def test_nothing_pending_nothing_failed_is_an_empty_list(api: Api) -> None:
    status, body = await api.call("GET", "/api/callbacks")
    assert status == 200 and body == {"callbacks": []}, body


async def test_an_agent_may_not_list_callbacks(api: Api) -> None:
    token = await sign_in(api, "1001", "demo-1001-password")
    status, body = await status_of(api, token, "GET", "/api/callbacks")
    assert status == 403, body
