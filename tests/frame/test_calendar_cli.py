"""``vaxel calendar``: the same explanation as the API, exit 2 on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.http.test_calendars_api import config_text
from vaxel.cli import main

VAXEL = [sys.executable, "-m", "vaxel.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VAXEL, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_explains_a_closed_deviation_with_prompt_and_next_change(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(config_text(tmp_path))
    # No offset: read as wall-clock time in the calendar's zone.
    res = run("calendar", "base", "--config", str(cfg), "--at", "2025-09-15T12:30")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "status:      CLOSED" in out
    assert "decided by:  deviation 1 (lunch): closed" in out
    assert "prompt:      sv=lunch-sv, en=lunch-en" in out
    assert "next change: 2025-09-15T13:00:00+02:00 (open)" in out


def test_queue_id_explains_its_effective_calendar(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(config_text(tmp_path))
    res = run("calendar", "sales", "--config", str(cfg), "--at", "2025-09-15T19:00:00+02:00")
    assert res.returncode == 0, res.stderr
    assert "calendar:    evening (effective for queue sales)" in res.stdout
    assert "status:      OPEN" in res.stdout


def test_bad_calendar_time_or_config_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process: the same main() the console script runs, without a process start each.
    assert main(["calendar", "nope"]) == 2
    assert "no calendar or queue 'nope'" in capsys.readouterr().err
    assert main(["calendar", "base", "--at", "tomorrow"]) == 2
    assert "--at: expected an ISO 8601 time" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[calendars.base]\ntimezone = 'Mars/Olympus'\n")
    assert main(["calendar", "base", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Mars/Olympus" in err and "Traceback" not in err


def test_explains_a_weekly_deviation_that_gives_way_to_a_holiday(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(config_text(tmp_path))
    # Ascension Day, a Thursday: the weekday lunch deviation matches but the holiday decides.
    assert main(["calendar", "base", "--config", str(cfg), "--at", "2025-05-29T12:30"]) == 0
    out = capsys.readouterr().out
    assert "status:      CLOSED" in out
    assert (
        "decided by:  holiday: Kristi himmelsfärdsdag "
        "(deviation 1 (lunch) does not apply on holidays)"
    ) in out
    assert (
        "not applied: deviation 1 (lunch): not on holidays (on_holidays = true would apply it)"
        in out
    )
