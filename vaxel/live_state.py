"""State that survives a restart: SIP registrations and agent logins (docs/operations.md).

Each change is written soon after it happens by one writer task (a REGISTER with changes
marks its user, an ACD command about an agent marks the agent; the writer stores their
current state). ``flush`` waits until every change made so far is stored: the agent
operations of the service layer await it before they answer, so a login the API confirmed
survives a ``kill -9``. At start :meth:`LiveState.restore` loads it back: bindings that
expired meanwhile are dropped, logged-in agents are logged in again with the same device,
groups and pause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from acd import Acd, AgentState
from sip import RegisterOutcome, Registrar, SipRequest

from .logs import log_event
from .storage.models import LiveStateRow

log = logging.getLogger("vaxel.state")

BINDINGS = "sip_bindings"
AGENT_LOGIN = "agent_login"


class PersistingRegistrar(Registrar):
    """The registrar core, telling ``on_change`` whose bindings a REGISTER changed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_change: Callable[[set[str]], None] = lambda users: None

    def handle_register(
        self, request: SipRequest, source: tuple[str, int], transport: str, now: float
    ) -> RegisterOutcome:
        outcome = super().handle_register(request, source, transport, now)
        if outcome.changes:
            self.on_change({c.binding.user for c in outcome.changes})
        return outcome


def agent_record(acd: Acd, agent_id: str, client: bool = False) -> dict[str, Any] | None:
    """What is kept of an agent's login (None: logged out). ``client``: the login is the
    agent client's, which logs out a grace period after the client is lost."""
    view = acd.agent_view(agent_id)
    if view.state is AgentState.OFFLINE or view.device is None:
        return None
    paused = view.state is AgentState.PAUSED
    return {
        "device": view.device,
        "groups": sorted(view.groups),
        "paused": paused,
        "pause_reason": view.pause_reason if paused else None,
        "client": client,
    }


class LiveState:
    def __init__(
        self,
        sessions: async_sessionmaker,
        registrar: Registrar,
        acd: Acd,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self.registrar = registrar
        self.acd = acd
        self._clock = clock
        self._users: set[str] = set()
        self._agents: set[str] = set()
        self._stored_agents: dict[str, dict[str, Any] | None] = {}
        self._generation = 0
        self._written = 0
        self._wake = asyncio.Event()
        self._cond = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # Whether an agent's login is bound to the agent client (set by the call stack).
        self.client_bound: Callable[[str], bool] = lambda agent: False
        self.restored_clients: list[str] = []  # restored logins that were the client's

    # ------------------------------------------------------------------ change marks

    def bindings_changed(self, users: Iterable[str]) -> None:
        self._users.update(users)
        self._mark()

    def agents_changed(self, agents: Iterable[str]) -> None:
        """Called for every ACD command naming an agent: only a login change is stored."""
        changed = False
        for agent in agents:
            try:
                record = agent_record(self.acd, agent, self.client_bound(agent))
            except Exception:
                continue
            if self._stored_agents.get(agent) != record:
                self._stored_agents[agent] = record
                self._agents.add(agent)
                changed = True
        if changed:
            self._mark()

    def _mark(self) -> None:
        self._generation += 1
        self._wake.set()

    async def flush(self) -> None:
        """Return once every change marked so far is stored (at once when not running)."""
        target = self._generation
        if self._task is None or self._task.done():
            return
        async with self._cond:
            await self._cond.wait_for(lambda: self._written >= target or self._closing)

    # ------------------------------------------------------------------ the writer

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-state-writer")

    async def close(self) -> None:
        """Write what is marked, then stop."""
        if self._task is None:
            return
        await self.flush()
        self._closing = True
        self._wake.set()
        await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._closing and not (self._users or self._agents):
                break
            generation = self._generation
            users, self._users = self._users, set()
            agents, self._agents = self._agents, set()
            try:
                await self._write(users, agents)
            except Exception:
                log.exception("could not store live state (registrations, agent logins)")
            async with self._cond:
                self._written = generation
                self._cond.notify_all()

    async def _write(self, users: set[str], agents: set[str]) -> None:
        now = self._clock()
        at = datetime.fromtimestamp(now, UTC)
        rows: list[dict[str, Any]] = []
        for user in sorted(users):
            records = self.registrar.export_bindings(now, user)
            if records:
                rows.append({"kind": BINDINGS, "key": user, "data": records, "updated_at": at})
        for agent in sorted(agents):
            record = self._stored_agents.get(agent)
            if record is not None:
                rows.append({"kind": AGENT_LOGIN, "key": agent, "data": record, "updated_at": at})
        async with self._sessions.begin() as session:
            for kind, keys in ((BINDINGS, users), (AGENT_LOGIN, agents)):
                if keys:
                    await session.execute(
                        delete(LiveStateRow).where(
                            LiveStateRow.kind == kind, LiveStateRow.key.in_(sorted(keys))
                        )
                    )
            if rows:
                await session.execute(insert(LiveStateRow), rows)

    # ------------------------------------------------------------------ restore at start

    async def restore(self, apply: Callable[..., Any]) -> dict[str, int]:
        """Load bindings and logins back; ``apply(method, *args)`` runs an ACD event (the
        runner's ``apply_safely``). Returns counts for the start-up log."""
        now = self._clock()
        async with self._sessions() as session:
            rows = (await session.execute(select(LiveStateRow))).scalars().all()
        records: list[dict[str, Any]] = []
        logins: list[tuple[str, dict[str, Any]]] = []
        for row in rows:
            if row.kind == BINDINGS and isinstance(row.data, list):
                records.extend(row.data)
            elif row.kind == AGENT_LOGIN and isinstance(row.data, dict):
                logins.append((row.key, row.data))
        restored, problems = self.registrar.import_bindings(records, now)
        for problem in problems:
            log_event(log, "state.binding_skipped", level=logging.WARNING, problem=problem)
        agents = 0
        for agent, data in logins:
            try:
                self.acd.agent_config(agent)
            except Exception:
                log_event(
                    log,
                    "state.login_skipped",
                    level=logging.WARNING,
                    agent=agent,
                    reason="agent no longer configured",
                )
                continue
            member = set(self.acd.agent_config(agent).groups)
            groups = [g for g in data.get("groups", []) if g in member] or None
            if not await apply(self.acd.agent_login, agent, str(data["device"]), groups):
                continue
            agents += 1
            if data.get("client") is True:
                self.restored_clients.append(agent)
            if data.get("paused") and data.get("pause_reason"):
                await apply(self.acd.agent_pause, agent, str(data["pause_reason"]))
        # Rewrite everything: expired bindings and logins that could not be restored go.
        self._users.update(row.key for row in rows if row.kind == BINDINGS)
        self._agents.update(row.key for row in rows if row.kind == AGENT_LOGIN)
        for agent in self._agents:
            self._stored_agents[agent] = (
                agent_record(self.acd, agent, agent in self.restored_clients)
                if _known(self.acd, agent)
                else None
            )
        self._mark()
        counts = {"bindings": len(restored), "agents": agents}
        log_event(log, "state.restored", **counts)
        return counts


def _known(acd: Acd, agent: str) -> bool:
    try:
        acd.agent_config(agent)
    except Exception:
        return False
    return True
