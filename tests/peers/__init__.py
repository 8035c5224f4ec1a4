"""Drivers of the real SIP peers the interop tests talk to (SIPp, baresip, linphonec)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


async def quit_console(proc: asyncio.subprocess.Process, send_quit: Callable[[], None]) -> bytes:
    """Ask a peer on its console to quit, kill it after 5 s; its remaining stdout."""
    with contextlib.suppress(Exception):  # the console may already be gone
        send_quit()
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 5)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return out or b""
