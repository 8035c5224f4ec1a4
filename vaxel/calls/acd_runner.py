"""Runs the pure ACD core in real time and carries out the commands it returns.

The ACD decides; this module only applies events (with wall-clock ``now``), keeps one
timer armed at the ACD's next deadline, writes LogEvents to the call log in order and
hands every other command to the call controller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from acd.commands import (
    AgentLoggedOut,
    AgentStateChanged,
    AnnouncePosition,
    CancelOffer,
    Command,
    LogEvent,
    OfferCall,
    Overflow,
)
from acd.core import Acd
from acd.errors import AcdError
from vaxel.logs import log_event
from vaxel.storage import CallLog, CallLogEvent

log = logging.getLogger("vaxel.acd")


class CommandSink(Protocol):
    """What the call controller does for the ACD."""

    def offer_call(self, cmd: OfferCall) -> None: ...
    def cancel_offer(self, cmd: CancelOffer) -> None: ...
    def overflow(self, cmd: Overflow) -> None: ...
    def announce_position(self, cmd: AnnouncePosition) -> None: ...


class AcdRunner:
    def __init__(
        self,
        acd: Acd,
        calllog: CallLog,
        *,
        clock: Callable[[], float] = time.time,
        publish: Callable[[dict], None] | None = None,
    ) -> None:
        self.acd = acd
        self.calllog = calllog
        self.clock = clock
        self.sink: CommandSink | None = None
        self.publish = publish or (lambda event: None)
        self._timer: asyncio.TimerHandle | None = None
        self._pending: asyncio.Queue[tuple[list[Command], asyncio.Future[None]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        # Call-log columns the ACD does not carry itself.
        self.numbers: dict[str, tuple[str | None, str | None]] = {}

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="acd-commands")
        self._arm()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass

    def apply(
        self, method: Callable[..., list[Command]], *args: object, **kw: object
    ) -> Awaitable[None]:
        """Apply one ACD event now; the returned awaitable resolves once its commands ran.

        Raises ``AcdError`` (nothing changed) when the ACD refuses the event.
        """
        commands = method(*args, now=self.clock(), **kw)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.put_nowait((commands, fut))
        self._arm()
        return fut

    async def apply_safely(
        self, method: Callable[..., list[Command]], *args: object, **kw: object
    ) -> bool:
        try:
            await self.apply(method, *args, **kw)
        except AcdError as exc:
            log_event(log, "acd.refused", level=logging.WARNING, reason=str(exc))
            return False
        return True

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.acd.next_deadline()
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, deadline - self.clock())
        self._timer = loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        try:
            commands = self.acd.tick(now=self.clock())
        except Exception:
            log.exception("ACD tick failed")
            commands = []
        if commands:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._pending.put_nowait((commands, fut))
        self._arm()

    async def _run(self) -> None:
        while True:
            commands, fut = await self._pending.get()
            try:
                await self._execute(commands)
            except Exception as exc:
                log.exception("carrying out ACD commands failed")
                if not fut.done():
                    fut.set_exception(exc)
                continue
            if not fut.done():
                fut.set_result(None)

    async def _execute(self, commands: list[Command]) -> None:
        # Call-log rows of one ACD step go in one transaction, before the step's actions.
        rows = [self._row(c) for c in commands if isinstance(c, LogEvent)]
        if rows:
            await self.calllog.append(*rows)
        sink = self.sink
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
                    }
                )
            elif isinstance(cmd, AgentLoggedOut):
                log_event(log, "acd.agent_logged_out", agent=cmd.agent, reason=cmd.reason)
                self.publish({"type": "agent_logged_out", "agent": cmd.agent, "reason": cmd.reason})
            elif sink is None:
                continue
            elif isinstance(cmd, OfferCall):
                sink.offer_call(cmd)
            elif isinstance(cmd, CancelOffer):
                sink.cancel_offer(cmd)
            elif isinstance(cmd, Overflow):
                sink.overflow(cmd)
            elif isinstance(cmd, AnnouncePosition):
                sink.announce_position(cmd)

    def _row(self, cmd: LogEvent) -> CallLogEvent:
        a_number, b_number = self.numbers.get(cmd.call_id or "", (None, None))
        return CallLogEvent(
            call_id=cmd.call_id or "-",
            kind=cmd.kind,
            at=datetime.fromtimestamp(cmd.at, UTC),
            queue=cmd.queue,
            agent=cmd.agent,
            a_number=a_number,
            b_number=b_number,
            data=_jsonable(cmd.data),
        )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _event_json(cmd: LogEvent) -> dict:
    return {
        "kind": cmd.kind,
        "call_id": cmd.call_id,
        "queue": cmd.queue,
        "agent": cmd.agent,
        "at": _iso(cmd.at),
        "data": _jsonable(cmd.data),
    }


def _jsonable(data: dict) -> dict:
    out = {}
    for k, v in data.items():
        if isinstance(v, str | int | float | bool) or v is None:
            out[k] = v
        elif isinstance(v, list | tuple):
            out[k] = [x if isinstance(x, str | int | float | bool) else str(x) for x in v]
        else:
            out[k] = str(v)
    return out
