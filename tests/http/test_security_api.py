"""GET/DELETE /api/security/bans: what the SIP guard and the lockout hold, through the API."""

from __future__ import annotations

import time

from tests.http.conftest import Api


async def test_bans_and_locks_are_listed_and_a_ban_is_lifted(api: Api) -> None:
    stack = api.server.calls
    assert stack is not None
    status, body = await api.call("GET", "/api/security/bans")
    assert (status, body) == (200, {"bans": [], "locks": []})
    stack.guard.ban("192.0.2.66", stack.endpoint.now(), "INVITE rate over 10/s")
    lockout = stack.registrar.lockout
    assert lockout is not None
    for _ in range(5):
        lockout.failed("1001", None, time.time())
    status, body = await api.call("GET", "/api/security/bans")
    assert status == 200
    (ban,) = body["bans"]
    assert ban["address"] == "192.0.2.66" and ban["reason"] == "INVITE rate over 10/s"
    assert 299 <= ban["remaining_seconds"] <= 300 and ban["count"] == 1
    assert ban["until"].endswith("Z") or "+" in ban["until"]
    (lock,) = body["locks"]
    assert (lock["kind"], lock["key"], lock["failures"], lock["step"]) == ("user", "1001", 5, 1)
    status, body = await api.call("DELETE", "/api/security/bans/192.0.2.66")
    assert (status, body) == (200, {"address": "192.0.2.66", "removed": True})
    status, body = await api.call("DELETE", "/api/security/bans/192.0.2.66")
    assert status == 404 and "neither banned nor locked" in body["error"]["message"]
    status, body = await api.call("DELETE", "/api/security/bans/evil.example")
    assert status == 400 and "expected an IP address" in body["error"]["message"]
