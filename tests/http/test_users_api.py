"""Users sign in with a password and act by their role: agents for themselves only,
five wrong passwords lock an account, administrative changes are audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from tests.http.conftest import Api
from vaxel.storage import sessionmaker
from vaxel.storage.models import TokenRow


async def login(api: Api, user: str, password: str) -> tuple[int, Any]:
    async with api.session.post(
        api.url("/api/login"), json={"user": user, "password": password}
    ) as resp:
        return resp.status, await resp.json()


async def as_user(
    api: Api, token: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with api.session.request(method, api.url(path), json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def token_of(api: Api, user: str, password: str) -> str:
    status, body = await login(api, user, password)
    assert status == 200, body
    return str(body["token"])


async def test_agent_logs_in_pauses_with_a_reason_and_goes_ready_with_own_credentials(
    api: Api,
) -> None:
    token = await token_of(api, "1001", "demo-1001-password")
    status, body = await as_user(api, token, "POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200 and body["agent"]["state"] == "ready", body
    status, body = await as_user(api, token, "POST", "/api/agents/1001/pause", {"reason": "lunch"})
    assert status == 200 and body["agent"]["state"] == "paused", body
    assert body["agent"]["pause_reason"] == "lunch"
    status, body = await as_user(api, token, "POST", "/api/agents/1001/ready")
    assert status == 200 and body["agent"]["state"] == "ready", body
    status, body = await as_user(api, token, "POST", "/api/agents/1001/wrapup_done")
    assert status == 200, body
    # Acting for oneself is in the call log, not the audit trail.
    status, audit = await api.call("GET", "/api/audit?target=agent%201001")
    assert status == 200 and audit["entries"] == [], audit


async def test_agent_is_refused_other_agents_with_a_message_naming_why(api: Api) -> None:
    token = await token_of(api, "1001", "demo-1001-password")
    status, body = await as_user(api, token, "POST", "/api/agents/1002/login", {"device": "sip"})
    assert status == 403
    assert "acts only for agent '1001', not for agent '1002'" in body["error"]["message"]
    assert api.server.calls.acd.agent_view("1002").state.value == "offline"
    status, body = await as_user(api, token, "GET", "/api/calllog/calls")
    assert status == 403 and "statistics permission" in body["error"]["message"], body
    status, body = await as_user(api, token, "GET", "/api/users")
    assert status == 403 and "only admins" in body["error"]["message"], body


async def test_admin_acting_for_an_agent_is_audited_with_before_and_after(api: Api) -> None:
    token = await token_of(api, "admin", "demo-admin-password")
    await as_user(api, token, "POST", "/api/agents/1002/login", {"device": "sip"})
    await as_user(api, token, "POST", "/api/agents/1002/pause", {"reason": "meeting"})
    status, body = await as_user(api, token, "GET", "/api/audit?target=agent%201002")
    assert status == 200, body
    pause, login_ = body["entries"]  # newest first
    assert login_["action"] == "agent.login" and pause["action"] == "agent.pause"
    assert pause["actor"] == "admin" and pause["role"] == "admin" and pause["via"] == "api"
    assert pause["source"] == "127.0.0.1"
    assert pause["before"]["state"] == "ready" and pause["after"]["state"] == "paused"
    assert pause["after"]["pause_reason"] == "meeting"
    assert login_["before"]["state"] == "offline" and login_["after"]["device"] == "sip:1002"
    # The configured token is an admin too, audited under its own name.
    await api.call("POST", "/api/agents/1002/ready")
    _, body = await api.call("GET", "/api/audit?action=agent.ready")
    assert body["entries"][0]["actor"] == "api-token"


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(api: Api) -> None:
    for _ in range(5):
        status, body = await login(api, "1002", "wrong password")
        assert status == 401 and body["error"]["message"] == "wrong user name or password"
    status, body = await login(api, "1002", "demo-1002-password")
    assert status == 423, body
    assert "locked after 5 wrong passwords" in body["error"]["message"]
    _, audit = await api.call("GET", "/api/audit?target=1002")
    actions = [e["action"] for e in audit["entries"]]
    assert actions.count("login.refused") == 6 and "user.locked" in actions, actions
    # An admin lifts the lock early; the right password works again.
    status, body = await api.call("POST", "/api/users/1002/unlock")
    assert status == 200 and body["user"]["locked"] is False, body
    status, _ = await login(api, "1002", "demo-1002-password")
    assert status == 200


async def test_the_lock_runs_out_by_itself(api: Api) -> None:
    users = api.server.users
    for _ in range(5):
        await login(api, "1003", "nope-nope")
    real = users._clock
    users._clock = lambda: real() + users.policy.lock_seconds + 1
    try:
        status, body = await login(api, "1003", "demo-1003-password")
    finally:
        users._clock = real
    assert status == 200, body


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api: Api) -> None:
    status, body = await login(api, "nobody", "whatever-it-is")
    assert status == 401 and body["error"]["message"] == "wrong user name or password"


async def test_an_expired_session_is_told_to_sign_in_again(api: Api) -> None:
    token = await token_of(api, "manager", "demo-manager-password")
    async with sessionmaker(api.server.engine).begin() as session:
        await session.execute(
            update(TokenRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    status, body = await as_user(api, token, "GET", "/api/me")
    assert status == 401 and "session expired" in body["error"]["message"], body


async def test_own_api_token_for_automation_acts_as_the_user_until_revoked(api: Api) -> None:
    session = await token_of(api, "manager", "demo-manager-password")
    status, body = await as_user(api, session, "POST", "/api/me/tokens", {"label": "wallboard"})
    assert status == 201, body
    created = body["token"]
    status, me = await as_user(api, created["token"], "GET", "/api/me")
    assert status == 200 and me["user"]["name"] == "manager" and me["user"]["statistics"]
    status, listed = await as_user(api, session, "GET", "/api/me/tokens")
    assert [t["label"] for t in listed["tokens"]] == ["wallboard"]
    assert "token" not in listed["tokens"][0]  # the secret is shown once only
    status, _ = await as_user(api, session, "DELETE", f"/api/me/tokens/{created['id']}")
    assert status == 200
    status, _ = await as_user(api, created["token"], "GET", "/api/me")
    assert status == 403


async def test_admin_creates_changes_and_deletes_users_and_each_change_is_audited(
    api: Api,
) -> None:
    status, body = await api.call(
        "POST", "/api/users", {"name": "eva", "role": "agent", "password": "short"}
    )
    assert status == 400 and "field 'password'" in body["error"]["message"], body
    status, body = await api.call(
        "POST", "/api/users", {"name": "eva", "role": "agent", "password": "long enough pw"}
    )
    assert status == 400 and "field 'agent': required" in body["error"]["message"], body
    status, body = await api.call(
        "POST",
        "/api/users",
        {"name": "eva", "role": "agent", "agent": "1001", "password": "long enough pw"},
    )
    assert status == 409 and "already belongs to user '1001'" in body["error"]["message"]
    status, body = await api.call(
        "POST", "/api/users", {"name": "eva", "role": "manager", "password": "long enough pw"}
    )
    assert status == 201 and body["user"]["role"] == "manager", body
    assert "password_hash" not in body["user"]
    status, body = await api.call("PATCH", "/api/users/eva", {"statistics": False})
    assert status == 200 and body["user"]["statistics"] is False
    token = await token_of(api, "eva", "long enough pw")
    status, _ = await as_user(api, token, "GET", "/api/calllog/calls")
    assert status == 403
    status, _ = await api.call("DELETE", "/api/users/eva")
    assert status == 200
    status, _ = await as_user(api, token, "GET", "/api/me")
    assert status == 403
    _, audit = await api.call("GET", "/api/audit?target=eva")
    assert [e["action"] for e in audit["entries"]] == [
        "user.deleted",
        "user.changed",
        "user.created",
    ]
    changed = audit["entries"][1]
    assert changed["before"]["statistics"] is True and changed["after"]["statistics"] is False


async def test_an_admin_cannot_delete_itself(api: Api) -> None:
    token = await token_of(api, "admin", "demo-admin-password")
    status, body = await as_user(api, token, "DELETE", "/api/users/admin")
    assert status == 403 and "cannot delete yourself" in body["error"]["message"]


async def test_users_come_from_the_file_once_and_passwords_are_argon2_hashes(api: Api) -> None:
    status, body = await api.call("GET", "/api/users")
    assert status == 200
    names = {u["name"]: u for u in body["users"]}
    assert set(names) == {"admin", "manager", "1001", "1002", "1003", "1004"}
    assert names["1001"]["agent"] == "1001" and names["1001"]["statistics"] is False
    assert await api.server.users.seed(api.server.config.users) == 0  # not empty: untouched
