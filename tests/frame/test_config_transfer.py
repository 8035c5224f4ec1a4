"""``vaxel config export`` / ``import``: the demo round-trips byte for byte through a fresh
database, and a file with one bad field in the middle changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import demo_toml_with

VAXEL = [sys.executable, "-m", "vaxel.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env_path = str(ROOT)
    return subprocess.run(
        [*VAXEL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )


def _setup(tmp_path: Path, name: str) -> Path:
    """A configuration file whose database is its own (a fresh, empty one)."""
    folder = tmp_path / name
    folder.mkdir()
    file = folder / "vaxel.toml"
    file.write_text(demo_toml_with(folder))
    return file


def test_export_import_into_a_fresh_database_exports_the_same_bytes(tmp_path: Path) -> None:
    # The demo's database is var/vaxel.db under the working directory: each folder is a
    # fresh database with the same file.
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    res = run("config", "export", cwd=first)
    assert res.returncode == 0, res.stderr
    exported = res.stdout
    assert "[queues.support]" in exported and "[agents.1001]" in exported
    assert "[users" not in exported  # users live in their own table
    (tmp_path / "export.toml").write_text(exported)

    res = run("config", "import", str(tmp_path / "export.toml"), cwd=second)
    assert res.returncode == 0, res.stderr
    assert "imported 6 numbers" in res.stdout and "4 agents" in res.stdout
    assert (second / "var" / "vaxel.db").exists()
    res = run("config", "export", cwd=second)
    assert res.returncode == 0, res.stderr
    assert res.stdout == exported


def test_a_broken_import_changes_nothing(tmp_path: Path) -> None:
    file = _setup(tmp_path, "c")
    good = tmp_path / "good.toml"
    res = run("config", "export", "--config", str(file), "-o", str(good), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    # A change early in the file that would be imported, then one bad field in the middle.
    text = good.read_text()
    text = text.replace('[queues.sales]\nname = "Sales"', '[queues.sales]\nname = "Renamed"')
    text = text.replace("[agents.1002]\n", '[agents.1002]\npin = "12"\n', 1)
    text = text.replace('pin = "1002"\n', "")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    good_import = run("config", "import", str(good), "--config", str(file), cwd=tmp_path)
    assert good_import.returncode == 0, good_import.stderr
    before = run("config", "export", "--config", str(file), cwd=tmp_path).stdout
    res = run("config", "import", str(bad), "--config", str(file), cwd=tmp_path)
    assert res.returncode == 2
    assert "agents.1002.pin" in res.stderr and "nothing imported" in res.stderr, res.stderr
    after = run("config", "export", "--config", str(file), cwd=tmp_path).stdout
    assert after == before and 'name = "Renamed"' not in after
