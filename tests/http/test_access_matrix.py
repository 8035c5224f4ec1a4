"""Each role signs in and calls every protected endpoint: exactly what docs/access.md says
is allowed passes the permission check, everything else is a 403 naming why."""

from __future__ import annotations

import re
from typing import Any

import pytest

from access import Principal, Role, decide
from tests.http.conftest import Api
from vaxel.http import create_app
from vaxel.http.permissions import PUBLIC, RULES

USERS = {
    Role.ADMIN: ("admin", "demo-admin-password", None),
    Role.MANAGER: ("manager", "demo-manager-password", None),
    Role.AGENT: ("1001", "demo-1001-password", "1001"),
}
# Values for path parameters; agent actions are tried on the agent's own id and another's.
PARAMS = {
    "queue_id": "support",
    "queue": "support",
    "slot": "welcome",
    "id": "999",
    "name": "nobody",
    "token_id": "999",
    "schedule_id": "999",
    "subscription_id": "999",
    "report": "key-figures",
    "address": "192.0.2.1",
    "kind": "pause_reasons",
    "key": "999",
    "index": "0",
    "company_id": "no-such-company",
    "staff_id": "999",
    "call_id": "no-such-call",
}


def app_routes(api: Api) -> set[tuple[str, str]]:
    app = create_app(api.server)
    found = set()
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or not canonical.startswith("/api/"):
            continue
        found.add((route.method, canonical))
    return found


async def sign_in(api: Api, user: str, password: str) -> str:
    async with api.session.post(
        api.url("/api/login"), json={"user": user, "password": password}
    ) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return str(body["token"])


async def status_of(api: Api, token: str, method: str, path: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with api.session.request(method, api.url(path), headers=headers) as resp:
        try:
            return resp.status, await resp.json()
        except Exception:
            return resp.status, await resp.text()


def test_every_route_has_a_permission_rule_and_no_rule_is_stale(api: Api) -> None:
    routes = app_routes(api)
    protected = routes - PUBLIC
    assert protected == set(RULES), {
        "routes without a rule": sorted(protected - set(RULES)),
        "rules without a route": sorted(set(RULES) - protected),
    }


@pytest.mark.parametrize("role", list(Role))
async def test_role_walks_the_matrix(api: Api, role: Role) -> None:
    user, password, agent = USERS[role]
    token = await sign_in(api, user, password)
    principal = Principal.of(user, role, agent)
    walked = []
    for (method, pattern), action in sorted(RULES.items()):
        if pattern == "/api/logout":
            continue  # would end the session the walk uses; tested below
        targets = ["1001", "1002"] if "{agent_id}" in pattern else [None]
        for target in targets:
            values = {**PARAMS, "agent_id": target or ""}
            path = re.sub(r"\{(\w+)\}", lambda m, v=values: v[m.group(1)], pattern)
            status, body = await status_of(api, token, method, path)
            allowed = bool(decide(principal, action, target_agent=target))
            walked.append((method, path, status))
            if allowed:
                assert status != 403 or "needs" not in str(body), (role, method, path, body)
                assert status not in (401, 403), (role, method, path, status, body)
            else:
                assert status == 403, (role, method, path, status, body)
                message = body["error"]["message"]
                assert user in message and ("may" in message or "only" in message), message
    assert len(walked) >= len(RULES)


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_may_log_out_and_the_token_is_then_dead(api: Api, role: Role) -> None:
    user, password, _ = USERS[role]
    token = await sign_in(api, user, password)
    status, body = await status_of(api, token, "POST", "/api/logout")
    assert status == 200 and body == {"logged_out": True}
    status, body = await status_of(api, token, "GET", "/api/me")
    assert status == 403, body
