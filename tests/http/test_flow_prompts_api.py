"""Prompts a flow names, on a running server: a missing one is warned about at start (the
API is how it gets uploaded), and one that is named cannot be deleted from under the flow."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from config import parse_config
from tests.http.conftest import Api
from tests.http.test_prompts_api import upload
from tests.prompts import audio_samples as samples
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

FLOW = """
[flows.f]
steps = ["welcome", "menu", "queue"]
[flows.f.menu]
prompt = "support-menu"
choices = { "1" = { queue = "sales" } }

[voicemail]
mail_retry_delays = [5, 50]
"""


async def start(tmp_path: Path) -> VaxelServer:
    """A server on the same data directory (and database) each time, on fresh ports."""
    text = demo_toml_with(
        tmp_path,
        replace={'"100" = { queue = "support" }': '"100" = { queue = "support", flow = "f" }'},
        extra=FLOW,
    )
    server = VaxelServer(parse_config(text, source="t.toml"), base_dir=tmp_path)
    await server.start()
    return server


def warnings(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    found = [r for r in caplog.records if r.getMessage() == "config.prompt_not_stored"]
    caplog.clear()
    return [(r.key, r.prompt) for r in found]  # type: ignore[attr-defined]


async def test_a_flow_prompt_not_stored_is_warned_about_until_it_is_uploaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vaxel.calls")
    server = await start(tmp_path)
    try:
        assert server.calls.unstored_prompts == [("flows.f.menu.prompt", "support-menu")]
        assert warnings(caplog) == [("flows.f.menu.prompt", "support-menu")]
        assert server.calls.voicemail.retry_delays == (5.0, 50.0)  # [voicemail] reaches it
        async with aiohttp.ClientSession() as session:
            api = Api(server, session, server.http_url)
            status, body = await upload(api, "support-menu", samples.wav(), "menu.wav")
            assert status == 201, body
            status, body = await api.call("GET", "/api/prompts/support-menu")
            assert body["used_by"] == ["flows.f.menu.prompt"]
    finally:
        await server.stop()
    server = await start(tmp_path)  # the next start finds it stored
    try:
        assert server.calls.unstored_prompts == [] and warnings(caplog) == []
    finally:
        await server.stop()
    (tmp_path / "var" / "prompts" / "support-menu.wav").unlink()
    server = await start(tmp_path)  # a row whose audio file is gone plays nothing either
    try:
        assert warnings(caplog) == [("flows.f.menu.prompt", "support-menu")]
    finally:
        await server.stop()


async def test_a_prompt_the_configuration_names_cannot_be_deleted(tmp_path: Path) -> None:
    server = await start(tmp_path)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(server, session, server.http_url)
            await upload(api, "support-menu", samples.wav(), "menu.wav")
            status, body = await api.call("DELETE", "/api/prompts/support-menu")
            assert status == 409
            assert body["error"]["message"] == (
                "prompt 'support-menu' is named by the configuration (flows.f.menu.prompt); "
                "change the configuration and restart first"
            )
            assert (server.data_dir / "prompts" / "support-menu.wav").is_file()
            # Standard prompts keep their own answer, even one a flow names.
            status, body = await api.call("DELETE", "/api/prompts/invalid-choice")
            assert status == 400 and "standard prompt" in body["error"]["message"]
    finally:
        await server.stop()
