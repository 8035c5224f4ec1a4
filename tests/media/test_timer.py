"""The media clock task: wake-ups never early (with or without timerfd), no starved loop."""

import asyncio
import sys
import time

import pytest

from media import MediaEngine, timer
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


async def test_an_overloaded_clock_still_lets_other_tasks_run(tmp_path):
    """Sends slower than the sub-tick: the clock stays behind but must not starve the loop."""
    engine = MediaEngine(
        "127.0.0.1", 33000, 33099, prompt_dir=tmp_path, no_rtp_timeout=None, phases=1
    )
    await engine.start()
    state = {"slow_calls": 0, "ran_during_overload": False}

    class SlowStream:
        owner = None

        def next_packet(self) -> bytes | None:
            state["slow_calls"] += 1
            if state["slow_calls"] >= 30:
                engine.clock.remove(self)  # the overload ends by itself
            time.sleep(0.025)  # more work than fits in a 20 ms tick
            return None

        def skip_frames(self, n: int) -> None:
            pass

    async def other_work() -> None:
        while state["slow_calls"] < 30:
            if state["slow_calls"] > 0:
                state["ran_during_overload"] = True
            await asyncio.sleep(0)

    try:
        engine.clock.add(SlowStream())
        await asyncio.wait_for(other_work(), 30)
        assert state["ran_during_overload"]
    finally:
        await engine.close()
