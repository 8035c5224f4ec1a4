"""The media clock task's wake-ups (media/timer.py): never early, with or without timerfd."""

import asyncio
import sys

import pytest

from media import timer
from media.timer import PreciseWake


@pytest.mark.parametrize("precise", [True, False])
async def test_until_returns_at_or_after_the_target_time(precise, monkeypatch):
    if not precise:
        monkeypatch.setattr(timer, "_libc", lambda: None)
    loop = asyncio.get_running_loop()
    wake = PreciseWake(loop)
    try:
        if precise and sys.platform != "linux":
            pytest.skip("timerfd is Linux only")
        assert wake.precise is precise
        for delay in (0.003, 0.0001, 0.02, -0.01):  # a past target returns at once
            target = loop.time() + delay
            await wake.until(target)
            # asyncio.sleep may wake up to its clock resolution early; timerfd never does.
            slack = 0 if precise else loop._clock_resolution  # type: ignore[attr-defined]
            assert loop.time() >= target - slack
    finally:
        wake.close()
    assert not wake.precise


async def test_a_cancelled_wait_leaves_the_timer_usable():
    loop = asyncio.get_running_loop()
    wake = PreciseWake(loop)
    try:
        task = asyncio.create_task(wake.until(loop.time() + 10))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        target = loop.time() + 0.005
        await asyncio.wait_for(wake.until(target), 5)
        assert loop.time() >= target - loop._clock_resolution  # type: ignore[attr-defined]
    finally:
        wake.close()
