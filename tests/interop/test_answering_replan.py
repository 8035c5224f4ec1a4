"""The answering plan follows number changes made at run time (issue 17): a number added
through the administration API can be given to a company and is answered in its name by
the next call, a number moved to another queue greets in the company's name and queues
there, and a number a company still answers on cannot be removed until the company lets
it go. Real SIPp callers over UDP; the call log says what each call heard."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config import parse_config
from tests.answering.companies import ACME_NUMBER, config_text
from tests.peers.sipp import Sipp
from vaxel.server import VaxelServer

from .conftest import RunningVaxel

pytestmark = pytest.mark.interop
ADMIN = {"Authorization": "Bearer demo-admin-token"}
NEW_NUMBER = "0850002"


async def _api(http: aiohttp.ClientSession, vaxel: RunningVaxel, method: str, path: str,
               body: Any = None) -> tuple[int, Any]:  # fmt: skip
    headers = dict(ADMIN)
    if method in ("PUT", "DELETE") and path.startswith("/api/config/"):
        async with http.get(vaxel.http + path, headers=ADMIN) as resp:
            if resp.status == 200:  # it exists: change it on its version
                headers["If-Match"] = resp.headers["ETag"]
    async with http.request(method, vaxel.http + path, json=body, headers=headers) as resp:
        text = await resp.text()
        return resp.status, (await resp.json()) if text else None


async def _call(vaxel: RunningVaxel, workdir: Path, number: str) -> dict[str, list[Any]]:
    """One SIPp call to ``number`` that hangs up 2 s after the answer; the events of the
    new call(s) it made, by call id."""
    before = {e.call_id for e in await vaxel.server.calllog.events()}
    caller = Sipp(workdir, builtin="uac", target=vaxel.sip_target, timeout=20)
    res = await caller.run_with("-s", number, "-d", "2000")
    assert res.returncode == 0, res.explain()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        calls: dict[str, list[Any]] = {}
        for e in await vaxel.server.calllog.events():
            if e.call_id not in before and e.b_number == number:
                calls.setdefault(e.call_id, []).append(e)
        if calls and all(any(e.kind == "hangup" for e in evs) for evs in calls.values()):
            return calls
        await asyncio.sleep(0.2)
    raise AssertionError(f"no logged call to {number}")


def _company_and_queue(calls: dict[str, list[Any]]) -> tuple[str | None, str | None]:
    (events,) = calls.values()
    company = next((e.data.get("company") for e in events if e.kind == "company"), None)
    queued = next((e.queue for e in events if e.kind == "queued"), None)
    return company, queued


async def test_company_numbers_follow_the_plan_changed_at_run_time(tmp_path: Path) -> None:
    config = parse_config(config_text(tmp_path), source="t.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    vaxel = RunningVaxel(server, config, tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            # A new number in the plan, then given to Acme: no restart.
            status, body = await _api(http, vaxel, "PUT", f"/api/config/numbers/{NEW_NUMBER}",
                                      {"queue": "support"})  # fmt: skip
            assert status in (200, 201), body
            status, body = await _api(http, vaxel, "PATCH", "/api/companies/acme",
                                      {"numbers": [ACME_NUMBER, NEW_NUMBER]})  # fmt: skip
            assert status == 200, body
            assert _company_and_queue(
                await _call(vaxel, tmp_path / "new", NEW_NUMBER)
            ) == ("acme", "support")

            # Acme's first number moves to the sales queue: greeted as Acme, queued there.
            status, body = await _api(http, vaxel, "PUT", f"/api/config/numbers/{ACME_NUMBER}",
                                      {"queue": "sales"})  # fmt: skip
            assert status == 200, body
            assert _company_and_queue(
                await _call(vaxel, tmp_path / "moved", ACME_NUMBER)
            ) == ("acme", "sales")

            # Removing a number Acme answers on is refused, naming the company ...
            status, body = await _api(http, vaxel, "DELETE", f"/api/config/numbers/{NEW_NUMBER}")
            assert 400 <= status < 500, body
            assert "companies.acme.numbers" in str(body) and NEW_NUMBER in str(body), body
            assert _company_and_queue(
                await _call(vaxel, tmp_path / "kept", NEW_NUMBER)
            ) == ("acme", "support")
            # ... until Acme lets it go; then it is an ordinary number, and then gone.
            status, body = await _api(http, vaxel, "PATCH", "/api/companies/acme",
                                      {"numbers": [ACME_NUMBER]})  # fmt: skip
            assert status == 200, body
            assert _company_and_queue(
                await _call(vaxel, tmp_path / "plain", NEW_NUMBER)
            ) == (None, "support")
            status, body = await _api(http, vaxel, "DELETE", f"/api/config/numbers/{NEW_NUMBER}")
            assert status == 200, body
            caller = Sipp(tmp_path / "gone", builtin="uac", target=vaxel.sip_target, timeout=20)
            res = await caller.run_with("-s", NEW_NUMBER, "-d", "2000")
            assert res.returncode != 0  # no such number any more: not answered
    finally:
        await server.stop()
