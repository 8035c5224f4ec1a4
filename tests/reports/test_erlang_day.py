"""A simulated busy day through the real ACD, its call-log events through the Rollup: the
day's service level and speed of answer agree with Erlang C (the M/M/N theory)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from acd import LogEvent
from acd.erlang import average_speed_of_answer, service_level
from acd.simulate import simulate_mmn
from calllog import AGENT_CALL_ID, CallEvent
from reports import Interval, QueueRules, Rollup

# 30 agents at 25 Erlang (83 % busy): across seeds a 10,000-call day is within two points
# of the steady-state figure (busier centres need longer runs: see bench/acd_sim.py).
AGENTS, AHT, LOAD, THRESHOLD = 30, 180.0, 25.0, 20.0
START = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # Monday 2 March, 00:30 in Stockholm
CALLS = 10_000  # about 20 hours of arrivals: one local day


def test_a_simulated_day_in_the_rollup_matches_erlang_c() -> None:
    rollup = Rollup("Europe/Stockholm", Interval.DAY, rules={"q": QueueRules(THRESHOLD, 0.0)})

    def feed(cmd: object) -> None:
        if isinstance(cmd, LogEvent):
            at = START + timedelta(seconds=cmd.at)
            rollup.add(
                CallEvent(
                    cmd.call_id or AGENT_CALL_ID,
                    cmd.kind,
                    at=at,
                    queue=cmd.queue,
                    agent=cmd.agent,
                    data=dict(cmd.data),
                )  # fmt: skip
            )

    result = simulate_mmn(agents=AGENTS, aht=AHT, load=LOAD, calls=CALLS, seed=1, observe=feed)
    (day,) = rollup.queue_figures(["q"])
    assert day.offered == result.offered == CALLS
    assert day.answered == result.answered
    expected_sl = service_level(LOAD, AGENTS, THRESHOLD, AHT)
    assert day.service_level_offered == pytest.approx(expected_sl, abs=0.03)
    expected_asa = average_speed_of_answer(LOAD, AGENTS, AHT)
    assert day.asa == pytest.approx(expected_asa, rel=0.35)
    # The Rollup's count is the simulation's own recount of the same waits.
    assert day.service_level_offered == pytest.approx(
        result.share_answered_within(THRESHOLD), abs=1e-9
    )
