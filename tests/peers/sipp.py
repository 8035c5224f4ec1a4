"""Run SIPp (the real peer) from tests, with everything needed to diagnose a failure.

Every run gets ``-timeout``, ``-m``, ``-nostdin`` and ``-trace_err``/``-trace_msg`` into a
folder of its own; a failure message carries SIPp's exit code, its error trace and the
tail of its message trace.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from tests.support import free_port, require_tool

SCENARIOS = Path(__file__).with_name("scenarios")


@dataclass
class SippResult:
    returncode: int
    stdout: str
    stderr: str
    workdir: Path

    def traces(self) -> str:
        parts = []
        for f in sorted(self.workdir.glob("*_errors.log")) + sorted(
            self.workdir.glob("*_messages.log")
        ):
            text = f.read_text(errors="replace")
            parts.append(f"--- {f.name} (last 6000 chars) ---\n{text[-6000:]}")
        return "\n".join(parts)

    def explain(self) -> str:
        return (
            f"sipp exit code {self.returncode}\n--- stdout ---\n{self.stdout[-3000:]}\n"
            f"--- stderr ---\n{self.stderr[-3000:]}\n{self.traces()}"
        )

    def messages(self) -> str:
        return "\n".join(f.read_text(errors="replace") for f in self.workdir.glob("*_messages.log"))


class Sipp:
    """One SIPp process; ``await run()`` for a UAC, ``start()``/``wait()`` for a UAS."""

    def __init__(
        self,
        workdir: Path,
        *args: str,
        scenario: str | None = None,
        builtin: str | None = None,
        port: int | None = None,
        calls: int = 1,
        timeout: float = 30,
        target: str | None = None,
        media_port: int | None = None,
    ) -> None:
        self.sipp = require_tool("sipp")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.timeout = timeout
        cmd = [self.sipp]
        if target:
            cmd.append(target)
        if builtin:
            cmd += ["-sn", builtin]
        if scenario:
            path = Path(scenario)
            cmd += ["-sf", str(path if path.is_absolute() else SCENARIOS / path)]
        cmd += ["-i", "127.0.0.1", "-p", str(self.port), "-mi", "127.0.0.1"]
        if media_port is not None:
            cmd += ["-mp", str(media_port)]
        cmd += ["-m", str(calls), "-timeout", f"{int(timeout)}s", "-nostdin"]
        cmd += ["-trace_err", "-trace_msg"]
        cmd += list(args)
        self.cmd = cmd
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd,
            cwd=self.workdir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )

    async def wait(self) -> SippResult:
        assert self.proc is not None
        try:
            out, err = await asyncio.wait_for(self.proc.communicate(), self.timeout + 15)
        except TimeoutError:
            self.proc.kill()
            out, err = await self.proc.communicate()
        return SippResult(
            self.proc.returncode if self.proc.returncode is not None else -1,
            out.decode(errors="replace"),
            err.decode(errors="replace"),
            self.workdir,
        )

    async def run(self) -> SippResult:
        await self.start()
        return await self.wait()

    async def run_with(self, *args: str) -> SippResult:
        """Run with extra command-line arguments (service, keys, credentials ...)."""
        self.cmd += list(args)
        return await self.run()

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5)
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
