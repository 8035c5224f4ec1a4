"""Month report benchmark (issue 15): 300,000 calls of 100 agents over a month (about
3 million call-log events, synthetic but consistent: every call's events in order, agents
never on two calls, pauses and logouts after the call in hand), streamed in time order into
a Rollup — never all in memory — then the monthly queue report and agent report read.

    .venv/bin/python bench/report_month.py [--calls 300000] [--agents 100] [--runs 3]

Each run is a fresh process: the generator alone is timed first, then generator + Rollup;
ingest = the difference. Peak memory is the process's max RSS (resource.getrusage).
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calllog import AGENT_CALL_ID, CallEvent  # noqa: E402
from reports import Rollup  # noqa: E402

ZONE = ZoneInfo("Europe/Stockholm")
MONTH = (2026, 10)  # 31 days with the 25-hour DST day
QUEUES = [f"q{i}" for i in range(10)]
OPEN, CLOSE, LAST_CALL = 7 * 3600, 21 * 3600, 20 * 3600 + 1800


def events(calls: int, agents: int, seed: int = 1) -> Iterator[CallEvent]:
    """The month's events in time order, generated as they happen."""
    rnd = random.Random(seed)
    days = 31
    per_day = calls // days
    pending: list[tuple[float, int, CallEvent]] = []  # (at, seq, event) not yet due
    seq = 0
    names = [f"a{i:03d}" for i in range(agents)]

    def emit(ts: float, call: str, kind: str, queue: str | None = None,
             agent: str | None = None, **data: object) -> None:  # fmt: skip
        nonlocal seq
        seq += 1
        at = datetime.fromtimestamp(ts, UTC)
        heapq.heappush(pending, (ts, seq, CallEvent(call, kind, at, queue, agent, data=data)))

    def due(until: float) -> Iterator[CallEvent]:
        while pending and pending[0][0] <= until:
            yield heapq.heappop(pending)[2]

    n = 0
    for day in range(1, days + 1):
        midnight = datetime(MONTH[0], MONTH[1], day, tzinfo=ZONE).timestamp()
        free = {a: midnight + OPEN + i for i, a in enumerate(names)}  # busy until
        for a in names:
            emit(free[a], AGENT_CALL_ID, "login", agent=a, device=f"sip:{a}")
        lunch = {a: midnight + 11 * 3600 + i * 60 for i, a in enumerate(names)}
        idle = [(free[a], a) for a in names]
        heapq.heapify(idle)
        # Closed calls before the opening and after the last call.
        for _ in range(per_day // 30):
            t = midnight + rnd.choice(
                (rnd.uniform(6 * 3600, OPEN), rnd.uniform(LAST_CALL, 23 * 3600))
            )
            n += 1
            c = f"c{n}"
            q = rnd.choice(QUEUES)
            emit(t, c, "incoming", q)
            emit(t + 1, c, "closed", q, rule="weekly")
            emit(t + 9, c, "hangup", q, mos=None)
        t = midnight + OPEN
        gap = (LAST_CALL - OPEN) / per_day
        for _ in range(per_day):
            t += rnd.expovariate(1 / gap)
            if t > midnight + LAST_CALL:
                break
            yield from due(t)
            n += 1
            c = f"c{n}"
            q = rnd.choice(QUEUES)
            emit(t, c, "incoming", q)
            emit(t, c, "arrived", q, priority=0, arrived_at=t)
            emit(t, c, "queued", q, priority=0, position=1)
            free_at, agent = heapq.heappop(idle)
            if lunch.get(agent, 1e300) <= max(t, free_at):  # the lunch pause first
                start = max(lunch.pop(agent), free_at, t)
                emit(start, AGENT_CALL_ID, "pause", agent=agent, reason="lunch")
                free_at = start + 1800
                emit(free_at, AGENT_CALL_ID, "ready", agent=agent)
            offer = max(t + 0.5, free_at)
            patience = rnd.expovariate(1 / 90)
            entered, queue = t, q
            if rnd.random() < 0.05 and offer - t < patience:  # overflow at 60 s
                queue = QUEUES[(QUEUES.index(q) + 1) % len(QUEUES)]
                entered = t + 60
                emit(entered, c, "overflowed", q, reason="max wait", to=queue)
                emit(entered, c, "queued", queue, priority=0, position=1)
                offer = max(offer, entered + 0.5)
            if offer - t >= patience:  # the caller gives up before an agent is free
                gone = t + patience
                emit(gone, c, "abandoned", queue, wait=patience, queue_wait=gone - entered)
                emit(gone, c, "hangup", queue, mos=4.3)
                heapq.heappush(idle, (free_at, agent))
                continue
            ring = rnd.uniform(2, 8)
            emit(offer, c, "offered", queue, agent, device=f"sip:{agent}")
            if rnd.random() < 0.05:  # no answer, then the agent takes it on the next ring
                emit(offer + 15, c, "no_answer", queue, agent, rang=15.0)
                offer += 15
                emit(offer, c, "offered", queue, agent, device=f"sip:{agent}")
            ans = offer + ring
            talk = rnd.expovariate(1 / 180)
            end = ans + talk
            emit(ans, c, "answered", queue, agent, wait=ans - t, queue_wait=ans - entered)
            emit(ans, c, "bridged", queue, agent)
            emit(end, c, "ended", queue, agent, talk=talk, reason="caller hung up")
            emit(end, c, "wrap_up_started", queue, agent)
            emit(end, c, "hangup", queue, agent, mos=round(rnd.uniform(2.5, 4.5), 2))
            emit(end + 30, c, "wrap_up_ended", queue, agent, wrap_up=30.0)
            heapq.heappush(idle, (end + 30, agent))
        for free_at, agent in idle:
            emit(max(free_at, midnight + CLOSE), AGENT_CALL_ID, "logout", agent=agent,
                 reason="scheduled logout")  # fmt: skip
        yield from due(midnight + 86400 + 3600)  # before the next day's logins
    yield from due(float("inf"))


def one_run(calls: int, agents: int) -> dict[str, float]:
    t0 = time.perf_counter()
    count = sum(1 for _ in events(calls, agents))
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = Rollup(ZONE, "month")
    r.add_all(events(calls, agents))
    fed = time.perf_counter() - t0
    t0 = time.perf_counter()
    queues = r.queue_figures()
    t_queue = time.perf_counter() - t0
    t0 = time.perf_counter()
    agent_rows = r.agent_figures()
    t_agent = time.perf_counter() - t0
    total = sum(f.offered for f in queues)
    sl = sum(f.answered_within for f in queues) / (total - sum(f.abandoned_short for f in queues))
    return {
        "events": count,
        "offered": total,
        "answered": sum(f.answered for f in queues),
        "abandoned": sum(f.abandoned for f in queues),
        "service_level": round(sl, 4),
        "queue_rows": len(queues),
        "agent_rows": len(agent_rows),
        "generate_s": gen,
        "generate_and_rollup_s": fed,
        "ingest_s": fed - gen,
        "queue_report_s": t_queue,
        "agent_report_s": t_agent,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300_000)
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(one_run(a.calls, a.agents)))
        return
    runs = []
    for _ in range(a.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--calls", str(a.calls), "--agents",
             str(a.agents)],  # fmt: skip
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(out.stdout))
        print(runs[-1], flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("median:", json.dumps(med, indent=1))


if __name__ == "__main__":
    main()
