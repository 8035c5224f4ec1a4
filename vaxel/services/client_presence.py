"""The grace period of the agent client (docs/web.md, "When the connection is lost").

An agent who logs in *from the agent client* (login with ``"client": true``) stays logged
in only while a client of theirs is connected: their ``/api/events`` stream (its WebSocket
heartbeat notices a dead network within ``HEARTBEAT_SECONDS``). Once the last one closes,
the agent is logged out after ``[web] client_grace_seconds``; a client that reconnects
inside the grace period finds the agent as it was (nothing was changed meanwhile).
Logins from scripts, the SSH console, schedules or the phone are not bound to a client.
The binding is stored with the login (``vaxel/live_state.py``): after a restart the page
has the grace period to reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING

from acd import AcdError, AgentState
from vaxel.logs import log_event

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

log = logging.getLogger("vaxel.web")


def lost_reason(grace: float) -> str:
    return f"the agent client was disconnected for {grace:g} s"


class ClientPresence:
    def __init__(self, stack: CallStack, grace: float) -> None:
        self.stack = stack
        self.grace = grace
        self._bound: set[str] = set()  # logged in from a client
        self._open: Counter[str] = Counter()  # agent -> open event streams
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def bound(self, agent: str) -> bool:
        return agent in self._bound

    def bind(self, agent: str) -> None:
        """The agent logged in from a client: from now on a lost client logs them out."""
        self._bound.add(agent)
        self.stack.live_state.agents_changed([agent])  # kept across a restart
        if not self._open[agent]:
            self._arm(agent)  # the client that logged in has this long to connect

    def unbind(self, agent: str) -> None:
        """Logged in some other way (or out): no client is watched for it any more."""
        if agent in self._bound:
            self._bound.discard(agent)
            self.stack.live_state.agents_changed([agent])
        self._cancel(agent)

    def attached(self, agent: str) -> None:
        self._open[agent] += 1
        self._cancel(agent)

    def detached(self, agent: str) -> None:
        self._open[agent] -= 1
        if self._open[agent] <= 0:
            del self._open[agent]
            if agent in self._bound:
                self._arm(agent)

    def close(self) -> None:
        for agent in list(self._timers):
            self._cancel(agent)

    def _arm(self, agent: str) -> None:
        self._cancel(agent)
        if self.grace <= 0:
            return
        loop = asyncio.get_running_loop()
        self._timers[agent] = loop.call_later(self.grace, self._expired, agent)

    def _cancel(self, agent: str) -> None:
        timer = self._timers.pop(agent, None)
        if timer is not None:
            timer.cancel()

    def _expired(self, agent: str) -> None:
        self._timers.pop(agent, None)
        task = asyncio.create_task(self._log_out(agent), name=f"client-lost-{agent}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _log_out(self, agent: str) -> None:
        if agent not in self._bound or self._open[agent]:
            return
        self._bound.discard(agent)
        acd = self.stack.acd
        if acd.agent_view(agent).state is AgentState.OFFLINE:
            return
        reason = lost_reason(self.grace)
        log_event(log, "web.client_lost", agent=agent, grace=self.grace)
        try:
            await self.stack.runner.apply(acd.agent_logout, agent, reason=reason)
        except AcdError as exc:
            log.warning("logging out agent %s after a lost client: %s", agent, exc)
            return
        await self.stack.live_state.flush()
