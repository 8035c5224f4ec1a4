"""Precise wake-ups for the media clock task: a Linux timerfd watched by the event loop.

asyncio's timers wake up to ~1 ms late: the selector passes epoll its timeout in whole
milliseconds, rounded up. A timerfd armed at an absolute CLOCK_MONOTONIC time (the clock
behind ``loop.time()``) becomes readable within tens of microseconds of that time, and the
selector wakes on it like on a socket, so the clock task needs neither spinning nor
blocking sleeps. Where timerfd is unavailable (not Linux, another loop whose ``time()`` is a
different clock) ``until()`` falls back to ``asyncio.sleep`` and ``precise`` is False.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import time

_CLOCK_MONOTONIC = 1
_TFD_CLOEXEC = 0o2000000
_TFD_NONBLOCK = 0o4000
_TFD_TIMER_ABSTIME = 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> ctypes.CDLL | None:
    if not hasattr(time, "CLOCK_MONOTONIC") or os.name != "posix":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.timerfd_settime.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(_Itimerspec),
            ctypes.c_void_p,
        ]
    except (OSError, AttributeError):
        return None
    return libc


def _loop_uses_monotonic(loop: asyncio.AbstractEventLoop) -> bool:
    # BaseEventLoop.time() is time.monotonic(), which is CLOCK_MONOTONIC on Linux.
    info = time.get_clock_info("monotonic").implementation
    return type(loop).time is asyncio.BaseEventLoop.time and "CLOCK_MONOTONIC" in info


class PreciseWake:
    """``await wake.until(t)`` returns at loop time ``t`` (within ~0.1 ms on Linux)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._fd = -1
        self._waiter: asyncio.Future[None] | None = None
        self._spec = _Itimerspec()
        libc = _libc() if _loop_uses_monotonic(loop) else None
        if libc is not None:
            fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_CLOEXEC | _TFD_NONBLOCK)
            if fd >= 0:
                self._libc = libc
                self._fd = fd
                loop.add_reader(fd, self._on_ready)

    @property
    def precise(self) -> bool:
        return self._fd >= 0

    async def until(self, when: float) -> None:
        if not self._arm(when):
            await asyncio.sleep(when - self._loop.time())
            return
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _arm(self, when: float) -> bool:
        """Set the timerfd to expire at loop time ``when``; False without one or on failure."""
        if self._fd < 0:
            return False
        sec = int(when)
        self._spec.it_value.tv_sec = sec
        self._spec.it_value.tv_nsec = int((when - sec) * 1e9)
        return self._libc.timerfd_settime(self._fd, _TFD_TIMER_ABSTIME, self._spec, None) == 0

    def _on_ready(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            os.read(self._fd, 8)  # the expiration count; reading re-arms readiness
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def close(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1
