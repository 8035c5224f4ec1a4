"""Agent logins and phone registrations are stored as they change and come back at the next
start on the same database (the interop test does the same with kill -9 and SIPp)."""

from __future__ import annotations

import time
from pathlib import Path

from config import parse_config
from sip.registrar import Binding
from tests.support import demo_toml_with
from vaxel.server import VaxelServer


async def test_login_pause_reason_groups_and_bindings_come_back_expired_ones_do_not(
    tmp_path: Path,
) -> None:
    config = parse_config(demo_toml_with(tmp_path), source="test.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    stack = server.calls
    assert stack is not None
    now = time.time()
    for user, expires in (("1001", now + 300), ("1002", now + 0.5)):
        stack.registrar.restore(
            Binding(
                user,
                f"sip:{user}@127.0.0.1:5099",
                expires,
                ("127.0.0.1", 5099),
                "UDP",
                f"c-{user}",
                1,
            )  # fmt: skip
        )
    stack.live_state.bindings_changed({"1001", "1002"})
    await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", ["sales"])
    await stack.runner.apply(stack.acd.agent_pause, "1001", "training")
    await stack.runner.apply(stack.acd.agent_login, "1004", "tel:0701001004", None)
    await stack.runner.apply(stack.acd.agent_login, "1003", "sip:1003", None)
    await stack.runner.apply(stack.acd.agent_logout, "1003")
    await stack.live_state.flush()
    await server.stop()
    time.sleep(0.6)  # 1002's binding expires while the server is down

    again = VaxelServer(config, base_dir=tmp_path)
    await again.start()
    try:
        acd = again.calls.acd  # type: ignore[union-attr]
        one = acd.agent_view("1001")
        assert (one.state.value, one.pause_reason, one.device) == ("paused", "training", "sip:1001")
        assert one.groups == frozenset({"sales"})
        four = acd.agent_view("1004")
        assert four.state.value == "ready" and four.device == "tel:0701001004"
        assert acd.agent_view("1003").state.value == "offline"
        registrar = again.calls.registrar  # type: ignore[union-attr]
        assert [b.contact for b in registrar.bindings("1001", time.time())]
        assert registrar.bindings("1002", time.time()) == []
    finally:
        await again.stop()
