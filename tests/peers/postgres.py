"""A throwaway PostgreSQL server for tests: initdb in a temp folder, trust auth, loopback only."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import IN_CI, free_port


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run(cmd: list[str]) -> None:
    # initdb refuses to run as root: run the server as the 'postgres' system user then.
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
        )


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an asyncpg URL of a fresh server; fail in CI, skip locally, if none is installed."""
    bindir = _pg_bin()
    if bindir is None:
        msg = "PostgreSQL server binaries not found (apt-get install postgresql)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    # pytest's tmp_path lives under a root-only folder: the server needs its own.
    base = Path(tempfile.mkdtemp(prefix="vaxel-pg-"))
    data = base / "pgdata"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    port = free_port(both=False)
    pg_ctl = str(bindir / "pg_ctl")
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
        _run(
            [
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "30",
                "-o",
                opts,
                "start",
            ]
        )
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            try:
                _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
            except RuntimeError:
                pass
        shutil.rmtree(base, ignore_errors=True)
