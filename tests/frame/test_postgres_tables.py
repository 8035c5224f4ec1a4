"""The whole server on a real PostgreSQL (the throwaway one of tests/peers/postgres.py):
every table written since the call log — users and tokens, the audit trail, live state,
scheduled logins, report subscriptions, callbacks and the administered configuration —
is written, read back, and survives a restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from callcore import Callback, PendingCallback
from config import parse_config
from tests.peers.postgres import postgres_server
from tests.support import demo_toml_with
from vaxel.server import VaxelServer
from vaxel.storage import sessionmaker
from vaxel.storage.callbacks import CallbackStore
from vaxel.storage.config_store import ConfigStore, VersionMismatch

ADMIN = {"Authorization": "Bearer demo-admin-token"}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x"


async def _call(
    http: aiohttp.ClientSession,
    server: VaxelServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, str | None]:
    async with http.request(
        method, server.http_url + path, json=body, headers={**ADMIN, **(headers or {})}
    ) as resp:
        return resp.status, await resp.json(), resp.headers.get("ETag")


async def test_every_new_table_on_postgresql(tmp_path: Path) -> None:
    with postgres_server() as url:
        text = demo_toml_with(
            tmp_path,
            replace={
                f'url = "sqlite+aiosqlite:///{tmp_path / "var" / "vaxel.db"}"': f'url = "{url}"'
            },
        )
        config = parse_config(text, source="pg.toml")
        server = VaxelServer(config, base_dir=tmp_path)
        await server.start()
        tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
        try:
            async with aiohttp.ClientSession() as http:
                # users and tokens: a password login gives a session token that works
                async with http.post(
                    server.http_url + "/api/login",
                    json={"user": "1001", "password": "demo-1001-password"},
                ) as resp:
                    assert resp.status == 200, await resp.text()
                    token = (await resp.json())["token"]
                async with http.get(
                    server.http_url + "/api/me", headers={"Authorization": f"Bearer {token}"}
                ) as resp:
                    assert (await resp.json())["user"]["name"] == "1001"
                # the agent logs in: live_state; a change to a queue: config_documents
                status, body, _ = await _call(
                    http, server, "POST", "/api/agents/1001/login", {"device": "sip"}
                )
                assert status == 200, body
                _, _, tag = await _call(http, server, "GET", "/api/config/queues/support")
                status, body, _ = await _call(
                    http,
                    server,
                    "PATCH",
                    "/api/config/queues/support",
                    {"ring_timeout": 11},
                    {"If-Match": tag or ""},
                )
                assert status == 200, body
                # a user's SSH key (users.ssh_keys)
                key = KEY
                status, body, _ = await _call(
                    http, server, "PATCH", "/api/users/manager", {"ssh_keys": [key]}
                )
                assert status == 200 and body["user"]["ssh_keys"] == [key], body
                # login_schedules and report_subscriptions
                status, body, _ = await _call(
                    http,
                    server,
                    "POST",
                    "/api/schedules",
                    {
                        "agent": "1002",
                        "first_day": tomorrow,
                        "last_day": tomorrow,
                        "start": "08:00",
                        "end": "17:00",
                    },
                )
                assert status == 201, body
                status, body, _ = await _call(
                    http,
                    server,
                    "POST",
                    "/api/report-subscriptions",
                    {
                        "email": "boss@localhost",
                        "owner": "admin",
                        "report": "key_figures",
                        "periodicity": "daily",
                    },
                )
                assert status == 201, body
                # the audit trail holds them
                status, body, _ = await _call(http, server, "GET", "/api/audit")
                actions = {e["action"] for e in body["entries"]}
                assert {"config.queues.changed", "user.changed"} <= actions, actions
            # callbacks
            callbacks = CallbackStore(sessionmaker(server.engine))
            await callbacks.save(
                PendingCallback(
                    Callback("pg-cb", "0701234567", 1, time.time(), 0), "support", "100", "sv"
                )
            )
            # a stale version is refused by the database's compare-and-set
            store = ConfigStore(sessionmaker(server.engine))
            try:
                await store.put("queues", "support", {"answer_groups": ["support"]}, 1)
            except VersionMismatch as exc:
                assert exc.current == 2
            else:
                raise AssertionError("a stale version was accepted")
        finally:
            await server.stop()

        # A restart on the same database: everything is still there.
        server = VaxelServer(config, base_dir=tmp_path)
        await server.start()
        try:
            assert server.config.queues["support"].ring_timeout == 11.0
            assert server.calls is not None
            assert server.calls.acd.is_logged_in("1001")
            assert [p.callback.origin for p in await callbacks_of(server)] == ["pg-cb"]
            assert await server.users.ssh_keys("manager") == [KEY]
            async with aiohttp.ClientSession() as http:
                _, body, _ = await _call(http, server, "GET", "/api/schedules")
                assert [s["agent"] for s in body["schedules"]] == ["1002"]
                _, body, _ = await _call(http, server, "GET", "/api/report-subscriptions")
                assert [s["email"] for s in body["subscriptions"]] == ["boss@localhost"]
        finally:
            await server.stop()


async def callbacks_of(server: VaxelServer) -> list[PendingCallback]:
    return await CallbackStore(sessionmaker(server.engine)).pending()
