"""A plain brute-force recount of the report figures from a whole call log, written apart
from ``reports.rollup`` (no incremental state: each call's events grouped, then counted;
interval bounds enumerated from the zone's wall clock)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calllog import CallEvent

SUMS_Q = [
    "offered",
    "answered",
    "answered_within",
    "abandoned",
    "abandoned_short",
    "abandoned_within",
    "overflow_out",
    "overflow_in",
    "closed",
    "voicemails",
    "answer_wait",
    "abandon_wait",
    "wait",
    "waits",
    "longest_wait",
    "talk",
    "talks",
    "wrap_up",
    "wrap_ups",
    "mos",
    "mos_calls",
    "mos_low",
]
SUMS_A = [
    "ready",
    "ringing",
    "busy",
    "wrap_up",
    "paused",
    "offers",
    "no_answers",
    "declined",
    "answered",
    "talk",
    "unanswered_logouts",
]
QUEUE_KINDS = ("arrived", "queued", "overflowed", "answered", "abandoned")
STATE_AFTER = {
    "offered": "ringing",
    "answered": "busy",
    "wrap_up_started": "wrap_up",
    "no_answer": "ready",
    "rejected": "ready",
    "offer_failed": "ready",
    "offer_cancelled": "ready",
    "ended": "ready",
    "wrap_up_ended": "ready",
    "ready": "ready",
    "pause": "paused",
    "logout": "offline",
}


def interval_starts(zone: ZoneInfo, interval: str, first: float, last: float) -> list[float]:
    """Every interval start from well before ``first`` to well after ``last``, found by
    trying each wall-clock candidate and keeping those that exist in the zone."""
    d0 = datetime.fromtimestamp(first, zone).date() - timedelta(days=40)
    d1 = datetime.fromtimestamp(last, zone).date() + timedelta(days=40)
    out: set[float] = set()
    d = d0
    while d <= d1:
        if interval in ("15min", "hour"):
            minutes = (0, 15, 30, 45) if interval == "15min" else (0,)
            for h in range(24):
                for m in minutes:
                    for fold in (0, 1):
                        wall = datetime(d.year, d.month, d.day, h, m, fold=fold)
                        ts = wall.replace(tzinfo=zone).timestamp()
                        if datetime.fromtimestamp(ts, zone).replace(tzinfo=None) == wall:
                            out.add(ts)
        elif (
            interval == "day"
            or (interval == "week" and d.weekday() == 0)
            or (interval == "month" and d.day == 1)
        ):
            out.add(datetime(d.year, d.month, d.day, tzinfo=zone).timestamp())
        d += timedelta(days=1)
    return sorted(out)


def _zero(names: list[str]) -> dict[str, float]:
    return dict.fromkeys(names, 0)


def recount(
    events: list[CallEvent], zone: ZoneInfo, interval: str, sl: float = 20.0, short: float = 5.0
) -> tuple[dict[tuple[str, float], dict[str, Any]], dict[tuple[str, float], dict[str, Any]]]:
    ts = [e.at.timestamp() for e in events]
    starts = interval_starts(zone, interval, ts[0], ts[-1])

    def key(t: float) -> float:
        return starts[bisect.bisect_right(starts, t) - 1]

    queues: dict[tuple[str, float], dict[str, Any]] = defaultdict(lambda: _zero(SUMS_Q))
    agents: dict[tuple[str, float], dict[str, Any]] = defaultdict(
        lambda: {**_zero(SUMS_A), "paused_by_reason": defaultdict(float)}
    )
    calls: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(events):
        if e.call_id != "-":
            calls[e.call_id].append(i)

    for idxs in calls.values():
        evs = [events[i] for i in idxs]
        first_key = key(ts[idxs[0]])
        # Queue visits: runs of queue events with the same queue.
        runs: list[list[int]] = []
        for i in idxs:
            e = events[i]
            if e.kind not in QUEUE_KINDS:
                continue
            if runs and events[runs[-1][0]].queue == e.queue:
                runs[-1].append(i)
            else:
                runs.append([i])
        answered_at = answered_q = None
        for n, run in enumerate(runs):
            q = events[run[0]].queue
            c = queues[(q, key(ts[run[0]]))]
            c["offered"] += 1
            c["overflow_in"] += n > 0
            last = events[run[-1]]
            wait = ts[run[-1]] - ts[run[0]]
            if last.kind not in ("answered", "abandoned", "overflowed"):
                continue
            c["wait"] += wait
            c["waits"] += 1
            c["longest_wait"] = max(c["longest_wait"], wait)
            if last.kind == "answered":
                c["answered"] += 1
                c["answer_wait"] += wait
                c["answered_within"] += wait <= sl
                answered_at, answered_q = run[-1], (q, key(ts[run[0]]))
            elif last.kind == "abandoned":
                c["abandoned"] += 1
                c["abandon_wait"] += wait
                c["abandoned_short"] += wait < short
                c["abandoned_within"] += wait <= sl
            else:
                c["overflow_out"] += 1
        if answered_at is not None:
            agent = events[answered_at].agent
            akey = (agent, key(ts[answered_at]))
            agents[akey]["answered"] += 1
            c = queues[answered_q]
            for i in idxs:
                e = events[i]
                if e.kind == "ended":
                    c["talk"] += ts[i] - ts[answered_at]
                    c["talks"] += 1
                    agents[akey]["talk"] += ts[i] - ts[answered_at]
                elif e.kind == "wrap_up_started":
                    for j in range(i + 1, len(events)):
                        f = events[j]
                        if (f.kind == "wrap_up_ended" and f.call_id == e.call_id) or (
                            f.kind == "logout" and f.agent == e.agent
                        ):
                            c["wrap_up"] += ts[j] - ts[i]
                            c["wrap_ups"] += 1
                            break
                elif e.kind == "hangup" and isinstance((e.data or {}).get("mos"), float):
                    c["mos"] += e.data["mos"]
                    c["mos_calls"] += 1
                    c["mos_low"] += e.data["mos"] < 3.1
        for kind, field in (("closed", "closed"), ("voicemail_stored", "voicemails")):
            hit = next((e for e in evs if e.kind == kind), None)
            if hit is not None:
                queues[(hit.queue, first_key)][field] += 1

    # Agents: a state timeline per agent, then its overlap with every interval.
    timeline: dict[str, list[tuple[float, str, str | None]]] = defaultdict(list)
    for i, e in enumerate(events):
        a = e.agent
        if a is None or e.kind not in (*STATE_AFTER, "login"):
            continue
        if e.kind in ("login", "pause", "logout") and e.call_id != "-":
            continue
        k = key(ts[i])
        if e.kind == "offered":
            agents[(a, k)]["offers"] += 1
        elif e.kind == "no_answer":
            agents[(a, k)]["no_answers"] += 1
        elif e.kind in ("rejected", "offer_failed"):
            agents[(a, k)]["declined"] += 1
        reason = (e.data or {}).get("reason") or ""
        if e.kind in ("pause", "logout") and reason.endswith("unanswered offers in a row"):
            agents[(a, k)]["unanswered_logouts"] += 1
        before = timeline[a][-1][1] if timeline[a] else "offline"
        if e.kind == "login":
            state = before if before in ("busy", "wrap_up") else "ready"
        else:
            state = STATE_AFTER[e.kind]
        timeline[a].append((ts[i], state, reason or "pause" if state == "paused" else None))
    end = ts[-1]
    for a, points in timeline.items():
        for (t0, state, reason), (t1, _, _) in zip(
            points, [*points[1:], (end, "", None)], strict=True
        ):
            if state == "offline" or t1 <= t0:
                continue
            for n, s in enumerate(starts):
                e_ = starts[n + 1] if n + 1 < len(starts) else float("inf")
                overlap = min(t1, e_) - max(t0, s)
                if overlap <= 0:
                    continue
                acc = agents[(a, s)]
                acc[state] += overlap
                if state == "paused":
                    acc["paused_by_reason"][reason] += overlap
    return dict(queues), dict(agents)
