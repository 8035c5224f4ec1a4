"""Live queue figures for wallboards (SPEC S12): waiting now, longest wait now, agents by
state (from the ACD) and today's service level and abandons (a ``reports.Rollup`` per local
day, fed from today's stored events at start and then from each event the call log
writes, through its listener hook: no polling of the database).

``QueueFigurePublisher`` decides when a ``queue_figures`` event goes out on the event hub:
at most once a second per queue, and only when the queue's figures changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from calllog import CallEvent
from reports import Interval, QueueFigures, QueueRules, Rollup

if TYPE_CHECKING:
    from acd import Acd
    from vaxel.storage import CallLog

log = logging.getLogger("vaxel.live")

PUBLISH_EVERY = 1.0  # seconds: at most one queue_figures event per queue this often


class TodayFigures:
    """Today's queue figures (local day of ``zone``), kept as events are written."""

    def __init__(self, zone: str, rules: dict[str, QueueRules]) -> None:
        self.zone = zone
        self.rules = rules
        self.rollup = Rollup(zone, Interval.DAY, rules=rules)
        self.changed = 0  # bumped on every event taken (publishers compare it)

    def add(self, events: Sequence[CallEvent]) -> None:
        for e in events:
            now = self.rollup.now
            if now is not None and e.at.timestamp() < now:
                # Producers stamp events a little before they reach the writer: keep the
                # rollup's order (a few ms at most).
                e = dataclasses.replace(e, at=datetime.fromtimestamp(now, UTC))
            self.rollup.add(e)
        self.changed += 1

    def today(self, now: float) -> dict[str, QueueFigures]:
        """Per queue, today's figures (calls that arrived since local midnight)."""
        lo = self.rollup.periods.bounds(now)[0]
        out: dict[str, QueueFigures] = {}
        for f in self.rollup.queue_figures():
            if f.start.timestamp() == lo:
                out[f.queue] = f
        return out

    def start_of_day(self, now: float) -> float:
        return self.rollup.periods.bounds(now)[0]


def queue_snapshot(
    queue: str,
    acd: Acd,
    today: QueueFigures | None,
    now: float,
    *,
    service_level_seconds: float,
) -> dict[str, Any]:
    """One queue's wallboard figures (JSON-able)."""
    waiting = [v for v in acd.calls() if v.call.queue == queue and v.state != "connected"]
    longest = max((now - v.entered_queue_at for v in waiting), default=None)
    groups = set(acd.queue_config(queue).answer_groups)
    # Agents who are members of a group serving the queue, by state (offline included).
    by_state = {state: 0 for state in ("ready", "ringing", "busy", "wrap_up", "paused",
                                       "offline")}  # fmt: skip
    for a in acd.agents():
        if groups & set(acd.agent_config(a.id).groups):
            state = str(a.state)
            by_state[state] = by_state.get(state, 0) + 1
    f = today
    return {
        "queue": queue,
        "waiting": sum(1 for v in waiting if v.state == "waiting"),
        "ringing": sum(1 for v in waiting if v.state == "ringing"),
        "longest_wait_seconds": round(longest, 1) if longest is not None else None,
        "agents": by_state,
        "today": {
            "offered": f.offered if f else 0,
            "answered": f.answered if f else 0,
            "answered_within": f.answered_within if f else 0,
            "abandoned": f.abandoned if f else 0,
            "abandoned_short": f.abandoned_short if f else 0,
            "service_level": f.service_level if f else None,
            "service_level_seconds": service_level_seconds,
            "asa": f.asa if f else None,
            "longest_wait_seconds": round(f.longest_wait, 1) if f else 0.0,
        },
    }


class QueueFigurePublisher:
    """Pure throttle: given each queue's snapshot and ``now``, which to publish."""

    def __init__(self, every: float = PUBLISH_EVERY) -> None:
        self.every = every
        self._last: dict[str, tuple[float, dict[str, Any]]] = {}

    def due(self, snapshots: dict[str, dict[str, Any]], now: float) -> list[dict[str, Any]]:
        out = []
        for queue, snap in snapshots.items():
            last = self._last.get(queue)
            if last is not None and (last[1] == snap or now - last[0] < self.every):
                continue
            self._last[queue] = (now, snap)
            out.append(snap)
        return out


class LiveFigures:
    """The executor: loads today's events, follows the call log, publishes changes."""

    def __init__(
        self,
        calllog: CallLog,
        acd_of: Callable[[], Acd | None],
        queues: dict[str, float],  # queue id -> service-level seconds
        zone: str,
        publish: Callable[[dict], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.calllog = calllog
        self.acd_of = acd_of
        self.queues = queues
        self.publish = publish
        self.clock = clock
        rules = {q: QueueRules(service_level_seconds=s) for q, s in queues.items()}
        self.today = TodayFigures(zone, rules)
        self.throttle = QueueFigurePublisher()
        self._unlisten: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None

    def set_queues(self, queues: dict[str, float]) -> None:
        """The queues changed at run time (a new one, one deleted, a new service level)."""
        self.queues = dict(queues)
        rules = self.today.rules
        for q, sl in queues.items():
            rules[q] = QueueRules(service_level_seconds=sl)

    async def start(self) -> None:
        """Read today's stored events (before calls are taken), then follow the writer."""
        midnight = datetime.fromtimestamp(self.today.start_of_day(self.clock()), UTC)
        batch: list[CallEvent] = []
        async for e in self.calllog.stream(since=midnight):
            batch.append(e)
            if len(batch) >= 1000:
                self.today.add(batch)
                batch = []
        self.today.add(batch)
        self._unlisten = self.calllog.add_listener(self.today.add)
        self._task = asyncio.create_task(self._run(), name="live-queue-figures")

    def snapshots(self) -> dict[str, dict[str, Any]]:
        acd = self.acd_of()
        now = self.clock()
        if acd is None:
            return {}
        today = self.today.today(now)
        return {
            q: queue_snapshot(q, acd, today.get(q), now, service_level_seconds=sl)
            for q, sl in self.queues.items()
        }

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.throttle.every)
            try:
                for snap in self.throttle.due(self.snapshots(), self.clock()):
                    self.publish({"type": "queue_figures", "at": _iso(self.clock()), **snap})
            except Exception:  # never let the wallboard loop die
                log.exception("live queue figures failed")

    async def close(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()
