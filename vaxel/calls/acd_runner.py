"""Runs the pure ACD core in real time and hands the commands it returns on, at once.

The ACD decides; this module only applies events (with wall-clock ``now``), keeps one
timer armed at the ACD's next deadline, publishes agent and call events to the event
hub, and gives every command to its sink (the call executor), synchronously: no queue
between the ACD and the calls. Call-log rows are written by the executor's call core,
the one path to the call log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from acd import Acd, AcdError, AgentLoggedOut, AgentStateChanged, Command, LogEvent
from calllog import jsonable
from vaxel.logs import log_event

log = logging.getLogger("vaxel.acd")

CommandSink = Callable[[list[Command]], None]


class AcdRunner:
    def __init__(
        self,
        acd: Acd,
        *,
        clock: Callable[[], float] = time.time,
        publish: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.acd = acd
        self.clock = clock
        self.sink: CommandSink = lambda commands: None
        self.publish = publish or (lambda event: None)
        # Told the agents each batch of commands names (to persist logins, vaxel/live_state).
        self.agents_changed: Callable[[set[str]], None] = lambda agents: None
        self._timer: asyncio.TimerHandle | None = None
        self._started = False

    def start(self) -> None:
        self._started = True
        self._arm()

    async def close(self) -> None:
        self._started = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def run(self, method: Callable[..., list[Command]], *args: object, **kw: object) -> None:
        """Apply one ACD event now and carry out its commands before returning.

        Raises ``AcdError`` (nothing changed) when the ACD refuses the event.
        """
        commands = method(*args, now=self.clock(), **kw)
        self._deliver(commands)
        self._arm()

    async def apply(
        self, method: Callable[..., list[Command]], *args: object, **kw: object
    ) -> None:
        """``run`` for the front doors, which await it (raises ``AcdError``)."""
        self.run(method, *args, **kw)

    async def apply_safely(
        self, method: Callable[..., list[Command]], *args: object, **kw: object
    ) -> bool:
        try:
            self.run(method, *args, **kw)
        except AcdError as exc:
            log_event(log, "acd.refused", level=logging.WARNING, reason=str(exc))
            return False
        return True

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.acd.next_deadline()
        if deadline is None or not self._started:
            return
        delay = max(0.0, deadline - self.clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        try:
            self._deliver(self.acd.tick(now=self.clock()))
        except Exception:
            log.exception("ACD tick failed")
        self._arm()

    def _deliver(self, commands: list[Command]) -> None:
        for cmd in commands:
            if isinstance(cmd, LogEvent):
                log_event(
                    log, f"acd.{cmd.kind}", call_id=cmd.call_id, queue=cmd.queue, agent=cmd.agent
                )
                self.publish({"type": "call_event", **_event_json(cmd)})
            elif isinstance(cmd, AgentStateChanged):
                self.publish(
                    {
                        "type": "agent_state",
                        "agent": cmd.agent,
                        "old": cmd.old.value,
                        "new": cmd.new.value,
                        "reason": cmd.reason,
                        "at": _iso(cmd.at),
                        "since": _iso(cmd.at),  # as state_since in GET /api/agents
                    }
                )
            elif isinstance(cmd, AgentLoggedOut):
                log_event(log, "acd.agent_logged_out", agent=cmd.agent, reason=cmd.reason)
                self.publish({"type": "agent_logged_out", "agent": cmd.agent, "reason": cmd.reason})
        if commands:
            self.sink(commands)
            named = {a for cmd in commands if (a := getattr(cmd, "agent", None)) is not None}
            if named:
                self.agents_changed(named)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _event_json(cmd: LogEvent) -> dict[str, Any]:
    return {
        "kind": cmd.kind,
        "call_id": cmd.call_id,
        "queue": cmd.queue,
        "agent": cmd.agent,
        "at": _iso(cmd.at),
        "data": jsonable(cmd.data),
    }
