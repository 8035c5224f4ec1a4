"""Remote login by phone: calling 190 from the agent's registered number toggles the login."""

from __future__ import annotations

from pathlib import Path

from tests.peers.sipp import Sipp

from .conftest import RunningVaxel


async def call_190(vaxel: RunningVaxel, workdir: Path, caller: str):
    res = await Sipp(
        workdir, scenario="call_until_bye.xml", target=vaxel.sip_target, timeout=20
    ).run_with("-s", "190", "-key", "caller", caller)
    assert res.returncode == 0, res.explain()
    return res


async def test_calling_190_from_the_remote_number_toggles_login_in_and_out(
    vaxel: RunningVaxel, tmp_path: Path
) -> None:
    acd = vaxel.stack.acd
    assert not acd.is_logged_in("1001")
    await call_190(vaxel, tmp_path / "in", "0701001001")
    view = acd.agent_view("1001")
    assert acd.is_logged_in("1001") and view.device == "tel:0701001001"
    assert set(view.groups) == {"support"}  # the preselected groups
    await call_190(vaxel, tmp_path / "out", "0701001001")
    assert not acd.is_logged_in("1001")
    events = [e for e in await vaxel.server.calllog.events() if e.kind == "remote_login"]
    assert [e.data["action"] for e in events] == ["login", "logout"]


async def test_unknown_caller_id_is_refused_and_changes_nothing(
    vaxel: RunningVaxel, tmp_path: Path
) -> None:
    acd = vaxel.stack.acd
    before = {a.id: a.state for a in acd.agents()}
    await call_190(vaxel, tmp_path / "x", "0709999999")
    assert {a.id: a.state for a in acd.agents()} == before
    (event,) = [e for e in await vaxel.server.calllog.events() if e.kind == "remote_login"]
    assert event.data["action"] == "refused"
