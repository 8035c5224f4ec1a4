"""The command line: check-config and serve exit with code 2 on a configuration problem."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support import demo_toml_with

VAXEL = [sys.executable, "-m", "vaxel.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VAXEL, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_check_config_accepts_the_demo() -> None:
    res = run("check-config")
    assert res.returncode == 0, res.stderr
    assert "OK (6 numbers, 2 queues, 4 agents)" in res.stdout


def test_check_config_bad_file_exits_2_with_one_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        demo_toml_with(
            tmp_path, replace={'"100" = { queue = "support" }': '"100" = { queue = "nope" }'}
        )
    )
    res = run("check-config", str(bad))
    assert res.returncode == 2
    assert f"{bad}: numbers.100.queue: unknown queue 'nope'" in res.stderr
    assert "Traceback" not in res.stderr


def test_check_config_lists_the_prompts_that_must_be_stored(tmp_path: Path) -> None:
    menu = '{ menu = { prompt = "PROMPT", choices = { "1" = { queue = "sales" } } } }'
    flow = f"[flows.f]\nsteps = [{menu}]\n"
    cfg = tmp_path / "site.toml"
    cfg.write_text(demo_toml_with(tmp_path, extra=flow.replace("PROMPT", "support-menu")))
    res = run("check-config", str(cfg))
    assert res.returncode == 0, res.stderr
    assert "  flows.f.steps.0.menu.prompt: 'support-menu' must be a stored prompt" in res.stdout
    assert "menu-example" not in res.stdout  # the demo's menu prompt is a standard one
    cfg.write_text(demo_toml_with(tmp_path, extra=flow.replace("PROMPT", "x" * 33)))
    res = run("check-config", str(cfg))
    assert res.returncode == 2
    assert f"flows.f.steps.0.menu.prompt: prompt '{'x' * 33}' can never be found" in res.stderr


def test_serve_with_bad_config_does_not_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(demo_toml_with(tmp_path, replace={"wrap_up = 5": 'wrap_up = "ten"'}))
    res = run("serve", "--config", str(bad))
    assert res.returncode == 2
    assert "queues.support.wrap_up" in res.stderr and "'ten'" in res.stderr


def test_serve_exits_2_when_the_http_port_is_in_use(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(demo_toml_with(tmp_path))
    port = _http_port(cfg.read_text())
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        res = run("serve", "--config", str(cfg))
    assert res.returncode == 2
    assert f"http.port: 127.0.0.1:{port} is already in use" in res.stderr
    assert "Traceback" not in res.stderr


def _http_port(text: str) -> int:
    section = text.split("[http]", 1)[1]
    line = next(line for line in section.splitlines() if line.startswith("port ="))
    return int(line.split("=")[1])


def test_serve_prints_where_it_listens_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(demo_toml_with(tmp_path))
    port = _http_port(cfg.read_text())
    proc = subprocess.Popen(
        [*VAXEL, "serve", "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 20
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None and '"status": "ok"' in body and '"version"' in body
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert f"HTTP  http://127.0.0.1:{port}/api/health" in out
    assert "event=server.stopped" in err
    # The banner and the log say where agents, queues, numbers ... come from at run time.
    assert "come from the database (the file seeded it when it was empty" in out
    assert "event=config.source" in err and "seeded from the configuration file" in err


def test_banner_says_which_rtp_statistics_run() -> None:
    from config import DEMO_CONFIG, load_config
    from media.rtpstats import COMPILED
    from vaxel.cli import _banner

    banner = _banner(load_config(DEMO_CONFIG), DEMO_CONFIG)
    want = "(statistics: compiled)" if COMPILED else "(statistics: pure Python"
    assert want in banner
