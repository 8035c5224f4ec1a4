"""The ACD: a pure state machine that decides who gets which call, and when.

Events go in as method calls, each with the current time ``now``; every
method returns the commands (``acd.commands``) for the composition root to
carry out, in order.  Timers are not run by the ACD: the root asks
:meth:`Acd.next_deadline` and calls :meth:`Acd.tick` when it passes.  Events
do not fire overdue timers; only ``tick`` does, so an event is applied
atomically and, when it is refused (:class:`AcdError`), nothing has changed.

Rules kept here (SPEC S2-S5, S8):

- calls are ordered by effective priority (queue priority + call priority,
  higher first), then original arrival, then the order the ACD saw them;
- the best-ordered waiting call that some ready agent may take is offered
  first; the agent is chosen by the queue's strategy, preferring agents that
  have not already let this call ring out;
- an agent holds at most one work item (call, callback, ticket; chat slot
  limits plug into :meth:`Acd._has_capacity`);
- no answer within the ring timeout, a rejection or a device failure puts
  the call back in its place; after a device failure the same agent (on the
  same device) is not offered that call again for the queue's
  ``failed_offer_retry`` seconds, so a trunk that answers 404 at once cannot
  burn through the agent's unanswered offers in milliseconds; the agent's
  count of unanswered offers in a row grows and at ``max_unanswered`` (5)
  the agent is logged out (or paused) with the reason "5 unanswered offers
  in a row";
- after a call the agent is in wrap-up for the queue's ``wrap_up`` seconds;
  with a classification profile wrap-up lasts until the code is given and
  the wrap-up time has passed, but never beyond ``wrap_up +
  classification_timeout`` (then "classification_missing" is logged);
- pausing or logging out while busy takes effect when the call ends.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

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
from acd.errors import AcdConfigError, AcdError
from acd.ewt import AhtTracker, estimated_wait
from acd.model import (
    AgentConfig,
    AgentState,
    AnswerGroup,
    Call,
    QueueConfig,
)
from acd.strategies import Candidate, choose

WAITING = "waiting"
RINGING = "ringing"
CONNECTED = "connected"

_UNANSWERED_ACTIONS = ("logout", "pause")


@dataclass(slots=True)
class _Wrap:
    call_id: str
    queue: str
    started: float
    talk: float
    base_end: float
    hard_end: float
    needs_code: bool
    aht: bool = True  # a queue call's handle time counts in the queue's AHT (EWT)

    @property
    def deadline(self) -> float:
        return self.hard_end if self.needs_code else self.base_end


@dataclass(slots=True)
class _Agent:
    config: AgentConfig
    order: int
    state: AgentState = AgentState.OFFLINE
    device: str | None = None
    groups: frozenset[str] = frozenset()
    idle_since: float = 0.0
    state_since: float = 0.0  # when the agent entered its current state
    calls: int = 0
    unanswered: int = 0
    call_id: str | None = None
    pause_reason: str | None = None
    pending: tuple[str, str] | None = None  # ("pause" | "logout", reason) after the call
    wrap: _Wrap | None = None


@dataclass(slots=True)
class _CallRec:
    call: Call
    seq: int
    entered_at: float
    state: str = WAITING
    key: tuple[int, float, int, str] = (0, 0.0, 0, "")
    offers: dict[str, float] = field(default_factory=dict)
    ring_deadline: float | None = None
    agent: str | None = None
    answered_at: float | None = None
    unanswered_by: set[str] = field(default_factory=set)
    visited: list[str] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # overflow reasons skipped (loop)
    # agent -> (retry at, device that failed): held back after a failed offer
    failed: dict[str, tuple[float, str]] = field(default_factory=dict)
    next_announce: float | None = None
    max_wait_done: bool = False


@dataclass(frozen=True, slots=True)
class AgentView:
    """Read-only view of an agent's runtime state."""

    id: str
    state: AgentState
    device: str | None
    groups: frozenset[str]
    call_id: str | None
    pause_reason: str | None
    unanswered_in_row: int
    calls_answered: int
    idle_since: float
    wrap_up_until: float | None
    state_since: float = 0.0


@dataclass(frozen=True, slots=True)
class CallView:
    """Read-only view of a call inside the ACD."""

    call: Call
    state: str  # waiting | ringing | connected
    agents: tuple[str, ...]  # ringing agents, or the connected agent
    entered_queue_at: float
    ring_deadline: float | None
    held_back: tuple[tuple[str, float], ...] = ()  # (agent, retry at) after failed offers


class Acd:
    """Automatic call distributor over queues, answer groups and agents."""

    def __init__(
        self,
        queues: Iterable[QueueConfig],
        groups: Iterable[AnswerGroup],
        agents: Iterable[AgentConfig],
        *,
        max_unanswered: int = 5,
        unanswered_action: str = "logout",
        aht_window: int = 50,
        gone_memory: int = 1000,
    ) -> None:
        if not isinstance(max_unanswered, int) or max_unanswered < 1:
            raise AcdConfigError(
                f"acd: max_unanswered: expected an integer >= 1, got {max_unanswered!r}"
            )
        if unanswered_action not in _UNANSWERED_ACTIONS:
            raise AcdConfigError(
                f"acd: unanswered_action: expected one of {_UNANSWERED_ACTIONS}, "
                f"got {unanswered_action!r}"
            )
        self.max_unanswered = max_unanswered
        self.unanswered_action = unanswered_action
        self._groups: dict[str, AnswerGroup] = {}
        for g in groups:
            if g.id in self._groups:
                raise AcdConfigError(f"answer group {g.id!r}: defined twice")
            self._groups[g.id] = g
        self._queues: dict[str, QueueConfig] = {}
        self._queue_groups: dict[str, frozenset[str]] = {}
        self._aht: dict[str, AhtTracker] = {}
        self._aht_window = aht_window
        self._rr_last: dict[str, int] = {}
        for q in queues:
            if q.id in self._queues:
                raise AcdConfigError(f"queue {q.id!r}: defined twice")
            unknown = [g for g in q.answer_groups if g not in self._groups]
            if unknown:
                raise AcdConfigError(f"queue {q.id!r}: answer_groups: unknown groups {unknown}")
            self._queues[q.id] = q
            self._queue_groups[q.id] = frozenset(q.answer_groups)
            self._aht[q.id] = AhtTracker(q.default_aht, aht_window)
        self._any_no_agent_rule = any(q.no_agent_target is not None for q in self._queues.values())
        self._agents: dict[str, _Agent] = {}
        for a in agents:
            if a.id in self._agents:
                raise AcdConfigError(f"agent {a.id!r}: defined twice")
            unknown = [g for g in a.groups if g not in self._groups]
            if unknown:
                raise AcdConfigError(f"agent {a.id!r}: memberships: unknown groups {unknown}")
            self._agents[a.id] = _Agent(config=a, order=len(self._agents))
        self._ready: dict[str, _Agent] = {}  # agents in READY, kept by _set_state
        self._calls: dict[str, _CallRec] = {}
        self._waiting: list[tuple[int, float, int, str]] = []
        self._gone: OrderedDict[str, Call] = OrderedDict()
        self._gone_memory = gone_memory
        self._seq = 0
        self._now = -math.inf
        self._schedule: list[tuple[float, int, str, str, str | None, tuple[str, ...] | None]] = []

    # ------------------------------------------------------------ reconfiguring

    def in_use(self, queue_id: str | None = None, agent_id: str | None = None) -> list[str]:
        """What a removal of ``queue_id`` or ``agent_id`` would break: the calls waiting,
        ringing or connected in that queue, agents in its wrap-up, or the agent's login."""
        found: list[str] = []
        if queue_id is not None:
            found += [
                f"call {r.call.id} ({r.state})"
                for r in self._calls.values()
                if r.call.queue == queue_id
            ]
            found += [
                f"agent {a.config.id} (wrap-up)"
                for a in self._agents.values()
                if a.wrap is not None and a.wrap.queue == queue_id
            ]
        if agent_id is not None and agent_id in self._agents:
            a = self._agents[agent_id]
            if a.state is not AgentState.OFFLINE:
                found.append(f"agent {agent_id} ({a.state.value})")
        return found

    def reconfigure(
        self,
        queues: Iterable[QueueConfig],
        groups: Iterable[AnswerGroup],
        agents: Iterable[AgentConfig],
    ) -> None:
        """Take a changed configuration while calls run. A queue's new settings apply from
        the next offer on (an offer ringing now keeps its deadline); an agent's login keeps
        only the groups it is still a member of. Removing a queue or an agent that
        :meth:`in_use` reports is refused here too (the caller checks first)."""
        new_groups = {g.id: g for g in groups}
        new_queues = {q.id: q for q in queues}
        new_agents = {a.id: a for a in agents}
        for q in new_queues.values():
            unknown = [g for g in q.answer_groups if g not in new_groups]
            if unknown:
                raise AcdConfigError(f"queue {q.id!r}: answer_groups: unknown groups {unknown}")
        for a in new_agents.values():
            unknown = [g for g in a.groups if g not in new_groups]
            if unknown:
                raise AcdConfigError(f"agent {a.id!r}: memberships: unknown groups {unknown}")
        busy = [w for qid in self._queues if qid not in new_queues for w in self.in_use(qid)]
        busy += [w for aid in self._agents if aid not in new_agents for w in self.in_use(None, aid)]
        if busy:
            raise AcdConfigError(f"still in use: {', '.join(busy)}")
        self._groups = new_groups
        for qid in list(self._queues):
            if qid not in new_queues:
                del self._queues[qid], self._queue_groups[qid], self._aht[qid]
                self._rr_last.pop(qid, None)
        for q in new_queues.values():
            if q.id not in self._aht:
                self._aht[q.id] = AhtTracker(q.default_aht, self._aht_window)
            self._queues[q.id] = q
            self._queue_groups[q.id] = frozenset(q.answer_groups)
        self._any_no_agent_rule = any(q.no_agent_target is not None for q in self._queues.values())
        for aid in list(self._agents):
            if aid not in new_agents:
                del self._agents[aid]
        for a in new_agents.values():
            rec = self._agents.get(a.id)
            if rec is None:
                self._agents[a.id] = _Agent(config=a, order=len(self._agents))
                continue
            rec.config = a
            if rec.state is not AgentState.OFFLINE:
                rec.groups = rec.groups & frozenset(a.groups)
        # Waiting calls are re-sorted: a queue's priority may have changed.
        for call in self._calls.values():
            if call.state == WAITING:
                self._remove_waiting(call)
                self._insert_waiting(call)

    # ------------------------------------------------------------------ reading

    def agent_view(self, agent_id: str) -> AgentView:
        a = self._agent(agent_id)
        return AgentView(
            id=a.config.id,
            state=a.state,
            device=a.device,
            groups=a.groups,
            call_id=a.call_id,
            pause_reason=a.pause_reason,
            unanswered_in_row=a.unanswered,
            calls_answered=a.calls,
            idle_since=a.idle_since,
            wrap_up_until=a.wrap.deadline if a.wrap else None,
            state_since=a.state_since,
        )

    def agents(self) -> list[AgentView]:
        return [self.agent_view(aid) for aid in self._agents]

    def calls(self) -> list[CallView]:
        """All calls in the ACD: waiting ones first, in distribution order."""
        order = {entry[3]: i for i, entry in enumerate(self._waiting)}
        recs = sorted(
            self._calls.values(),
            key=lambda r: (r.state != WAITING, order.get(r.call.id, 0), r.seq),
        )
        return [
            CallView(
                call=r.call,
                state=r.state,
                agents=tuple(r.offers) if r.state == RINGING else ((r.agent,) if r.agent else ()),
                entered_queue_at=r.entered_at,
                ring_deadline=r.ring_deadline,
                held_back=tuple(
                    (aid, until)
                    for aid, (until, device) in r.failed.items()
                    if until > self._now and self._agents[aid].device == device
                ),
            )
            for r in recs
        ]

    def waiting(self) -> list[Call]:
        """Waiting calls (not ringing), best first."""
        return [self._calls[e[3]].call for e in self._waiting]

    def is_logged_in(self, agent_id: str) -> bool:
        return self._agent(agent_id).state is not AgentState.OFFLINE

    def queue_config(self, queue_id: str) -> QueueConfig:
        return self._queue(queue_id)

    def agent_config(self, agent_id: str) -> AgentConfig:
        return self._agent(agent_id).config

    def agent_configs(self) -> list[AgentConfig]:
        return [a.config for a in self._agents.values()]

    def serves(self, agent_id: str, queue_id: str) -> bool:
        """Whether the agent is logged in to a group serving the queue."""
        a = self._agent(agent_id)
        return a.state is not AgentState.OFFLINE and bool(a.groups & self._queue_groups[queue_id])

    def position(self, call_id: str) -> int | None:
        """1-based position among the calls waiting in the call's queue."""
        rec = self._calls.get(call_id)
        if rec is None or rec.state != WAITING:
            return None
        pos = 0
        for e in self._waiting:
            if self._calls[e[3]].call.queue == rec.call.queue:
                pos += 1
            if e[3] == call_id:
                return pos
        return None  # pragma: no cover - a waiting call is always listed

    def staffed_agents(self, queue_id: str) -> int:
        """Agents logged in to a serving group and not paused (see ``acd.ewt``)."""
        groups = self._queue_groups[queue_id]
        return sum(
            1
            for a in self._agents.values()
            if a.state not in (AgentState.OFFLINE, AgentState.PAUSED) and a.groups & groups
        )

    def average_handle_time(self, queue_id: str) -> float:
        return self._aht[self._queue(queue_id).id].aht

    def estimated_wait(self, call_id: str) -> float | None:
        """EWT in seconds for a waiting call (formula in ``acd.ewt``); None if unknown."""
        pos = self.position(call_id)
        if pos is None:
            return None
        q = self._calls[call_id].call.queue
        return estimated_wait(pos, self.staffed_agents(q), self._aht[q].aht)

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next be called; ``None`` when no timer runs."""
        best = math.inf
        for rec in self._calls.values():
            if rec.state == RINGING and rec.ring_deadline is not None:
                best = min(best, rec.ring_deadline)
            elif rec.state == WAITING:
                q = self._queues[rec.call.queue]
                if q.max_wait is not None and not rec.max_wait_done:
                    best = min(best, rec.entered_at + q.max_wait)
                if rec.next_announce is not None:
                    best = min(best, rec.next_announce)
                for until, _ in rec.failed.values():
                    best = min(best, until)
        for a in self._agents.values():
            if a.wrap is not None:
                best = min(best, a.wrap.deadline)
        if self._schedule:
            best = min(best, self._schedule[0][0])
        return None if best == math.inf else best

    # ------------------------------------------------------------------ calls

    def call_arrived(self, call: Call, *, now: float, again: bool = False) -> list[Command]:
        """A call (or callback/ticket/chat) joins ``call.queue``; ``again``: a call that
        ended here before comes back under its own id (an agent transferred it)."""
        if not isinstance(call, Call):
            raise AcdError(f"call_arrived: expected a Call, got {type(call).__name__}")
        self._queue(call.queue)
        if again and call.id not in self._calls:
            self._gone.pop(call.id, None)
        if call.id in self._calls or call.id in self._gone:
            raise AcdError(f"call {call.id!r}: already known to the ACD")
        now = self._clock(now)
        if call.arrived_at is None:
            call = replace(call, arrived_at=now)
        self._seq += 1
        rec = _CallRec(call=call, seq=self._seq, entered_at=now)
        self._calls[call.id] = rec
        out: list[Command] = [
            LogEvent(
                "arrived",
                call.id,
                call.queue,
                None,
                {
                    "a_number": call.a_number,
                    "b_number": call.b_number,
                    "channel": call.channel.value,
                    "priority": call.priority,
                    "arrived_at": call.arrived_at,
                },
                now,
            )
        ]
        self._enter_queue(rec, call.queue, now, out)
        return self._finish(now, out)

    def call_abandoned(self, call_id: str, *, now: float) -> list[Command]:
        """The caller hung up before being answered (a connected call is ended)."""
        rec = self._known_call(call_id)
        if rec is None:
            return []
        now = self._clock(now)
        if rec.state == CONNECTED:
            return self.call_ended(call_id, now=now, reason="caller hung up")
        out: list[Command] = []
        if rec.state == WAITING:
            self._remove_waiting(rec)
        else:
            self._cancel_offers(rec, now, out, "caller hung up")
        out.append(
            LogEvent(
                "abandoned",
                call_id,
                rec.call.queue,
                None,
                self._waits(rec, now),
                now,
            )
        )
        self._forget(rec)
        return self._finish(now, out)

    def call_withdrawn(self, call_id: str, *, now: float, reason: str) -> list[Command]:
        """The call leaves the queue without being abandoned (it became a callback that
        takes its place): offers are cancelled, ``withdrawn`` is logged."""
        rec = self._known_call(call_id)
        if rec is None:
            return []
        now = self._clock(now)
        if rec.state == CONNECTED:
            raise AcdError(f"call {call_id!r}: withdrawn: it is connected to an agent")
        out: list[Command] = []
        if rec.state == WAITING:
            self._remove_waiting(rec)
        else:
            self._cancel_offers(rec, now, out, reason)
        data: dict[str, Any] = {"reason": reason, **self._waits(rec, now)}
        out.append(LogEvent("withdrawn", call_id, rec.call.queue, None, data, now))
        self._forget(rec)
        return self._finish(now, out)

    def offer_answered(self, call_id: str, agent_id: str, *, now: float) -> list[Command]:
        """``agent`` answered the offer; a stale answer is cancelled again."""
        a = self._agent(agent_id)
        rec = self._known_call(call_id)
        now = self._clock(now)
        if rec is None or rec.state != RINGING or agent_id not in rec.offers:
            call = rec.call if rec else self._gone[call_id]
            queue = call.queue
            return [
                CancelOffer(call, agent_id),
                LogEvent("late_answer", call_id, queue, agent_id, {}, now),
            ]
        out: list[Command] = []
        del rec.offers[agent_id]
        self._cancel_offers(rec, now, out, "answered by another agent")
        rec.state = CONNECTED
        rec.agent = agent_id
        rec.answered_at = now
        rec.ring_deadline = None
        a.unanswered = 0
        a.calls += 1
        a.call_id = call_id
        self._set_state(a, AgentState.BUSY, "answered", now, out)
        data = self._waits(rec, now)
        data["service_level_seconds"] = self._queues[rec.call.queue].service_level_seconds
        out.append(LogEvent("answered", call_id, rec.call.queue, agent_id, data, now))
        return self._finish(now, out)

    def offer_rejected(
        self, call_id: str, agent_id: str, *, now: float, reason: str = "rejected"
    ) -> list[Command]:
        """The agent's device declined the offer (counts as unanswered)."""
        return self._offer_ended(call_id, agent_id, now, "rejected", reason)

    def offer_failed(
        self, call_id: str, agent_id: str, *, now: float, reason: str = "device error"
    ) -> list[Command]:
        """The device could not be rung (busy, error); counts as unanswered.

        ``reason`` goes to the call log as given (e.g. "failed: 404 Not Found").
        The agent is not offered this call again for the queue's
        ``failed_offer_retry`` seconds unless it logs in on another device.
        """
        return self._offer_ended(call_id, agent_id, now, "offer_failed", reason)

    def call_ended(self, call_id: str, *, now: float, reason: str = "hangup") -> list[Command]:
        """An answered call ended (either side); the agent goes to wrap-up."""
        rec = self._known_call(call_id)
        if rec is None:
            return []
        if rec.state != CONNECTED:
            return self.call_abandoned(call_id, now=now)
        now = self._clock(now)
        out: list[Command] = []
        assert rec.agent is not None and rec.answered_at is not None
        a = self._agents[rec.agent]
        talk = now - rec.answered_at
        q = self._queues[rec.call.queue]
        out.append(
            LogEvent("ended", call_id, q.id, a.config.id, {"talk": talk, "reason": reason}, now)
        )
        self._forget(rec)
        a.call_id = None
        if a.pending is not None and a.pending[0] == "logout":
            self._aht[q.id].add(talk)
            self._go_offline(a, a.pending[1], now, out)
        elif q.wrap_up > 0 or q.classification_profile is not None:
            needs = q.classification_profile is not None and q.classification_required
            base = now + q.wrap_up
            a.wrap = _Wrap(
                call_id=call_id,
                queue=q.id,
                started=now,
                talk=talk,
                base_end=base,
                hard_end=base + (q.classification_timeout if needs else 0.0),
                needs_code=needs,
            )
            self._set_state(a, AgentState.WRAP_UP, "call ended", now, out)
            out.append(
                LogEvent(
                    "wrap_up_started",
                    call_id,
                    q.id,
                    a.config.id,
                    {"until": a.wrap.deadline, "classification_profile": q.classification_profile},
                    now,
                )
            )
        else:
            self._aht[q.id].add(talk)
            self._free(a, "call ended", now, out)
        return self._finish(now, out)

    def agent_engaged(
        self, agent_id: str, call_id: str, *, now: float, only_ready: bool = False
    ) -> list[Command]:
        """The agent is on a call outside the queues (an outbound call, a direct number):
        busy, no offers, until :meth:`agent_released`. A logged-out agent stays so.
        ``only_ready``: refuse (AcdError) unless the agent is ready (a call handed to them)."""
        a = self._agent(agent_id)
        if only_ready and (a.state is not AgentState.READY or a.call_id is not None):
            raise AcdError(f"agent {agent_id!r} is {a.state.value}, not ready for a call")
        now = self._clock(now)
        out: list[Command] = []
        if a.state is AgentState.OFFLINE or a.state is AgentState.BUSY:
            return []  # not taking queue calls anyway (a consult beside a call stays busy)
        if a.state is AgentState.RINGING:
            self._withdraw_agent_offer(a, now, out, f"agent on call {call_id}")
        elif a.state is AgentState.WRAP_UP:
            self._end_wrap(a, now, out, "wrap-up ended by a new call")
            if a.state is not AgentState.READY:  # a pause or logout asked for meanwhile
                return self._finish(now, out)
        elif a.state is AgentState.PAUSED:
            a.pending = ("pause", a.pause_reason or "pause")  # paused again afterwards
        a.call_id = call_id
        self._set_state(a, AgentState.BUSY, f"call {call_id}", now, out)
        return self._finish(now, out)

    def agent_released(
        self, agent_id: str, call_id: str, *, now: float, queue: str | None = None,
        wrap_up: float = 0.0,
    ) -> list[Command]:  # fmt: skip
        """That call outside the queues ended: wrap-up for ``wrap_up`` seconds (for
        ``queue``'s statistics), then ready (or the pause/logout asked for meanwhile)."""
        a = self._agent(agent_id)
        if a.call_id != call_id or a.state is not AgentState.BUSY:
            return []
        now = self._clock(now)
        out: list[Command] = []
        if a.pending is not None and a.pending[0] == "logout":
            a.call_id = None
            self._go_offline(a, a.pending[1], now, out)
        elif wrap_up > 0 and queue is not None and queue in self._queues:
            a.call_id = None
            a.wrap = _Wrap(call_id, queue, now, 0.0, now + wrap_up, now + wrap_up, False, False)
            self._set_state(a, AgentState.WRAP_UP, "call ended", now, out)
            out.append(
                LogEvent("wrap_up_started", call_id, queue, agent_id,
                         {"until": a.wrap.deadline, "classification_profile": None}, now)
            )  # fmt: skip
        else:
            self._free(a, "call ended", now, out)
        return self._finish(now, out)

    # ------------------------------------------------------------------ agents

    def agent_login(
        self,
        agent_id: str,
        device: str,
        groups: Iterable[str] | None = None,
        *,
        now: float,
    ) -> list[Command]:
        """Log in (or log in again elsewhere, replacing the earlier login, S4).

        ``groups`` None: the agent's preselected groups, else all its groups.
        """
        a = self._agent(agent_id)
        if not isinstance(device, str) or not device:
            raise AcdError(f"agent {agent_id!r}: login: device must be a non-empty string")
        chosen = a.config.default_login_groups() if groups is None else tuple(groups)
        not_member = [g for g in chosen if g not in a.config.groups]
        if not_member:
            raise AcdError(
                f"agent {agent_id!r}: login: not a member of answer groups {not_member} "
                f"(member of {list(a.config.groups)})"
            )
        now = self._clock(now)
        out: list[Command] = []
        self._login(a, device, frozenset(chosen), now, out)
        return self._finish(now, out)

    def agent_logout(
        self, agent_id: str, *, now: float, reason: str = "logged out"
    ) -> list[Command]:
        """Log out; while in a call, the logout takes effect when the call ends."""
        a = self._agent(agent_id)
        now = self._clock(now)
        out: list[Command] = []
        if a.state is AgentState.OFFLINE:
            return []
        if a.state is AgentState.BUSY:
            a.pending = ("logout", reason)
            out.append(
                LogEvent("logout_pending", a.call_id, None, agent_id, {"reason": reason}, now)
            )
        else:
            self._go_offline(a, reason, now, out)
        return self._finish(now, out)

    def agent_pause(self, agent_id: str, reason: str, *, now: float) -> list[Command]:
        """Pause with a reason; while busy or in wrap-up it starts after wrap-up."""
        a = self._agent(agent_id)
        if a.state is AgentState.OFFLINE:
            raise AcdError(f"agent {agent_id!r}: cannot pause while logged out; log in first")
        if not isinstance(reason, str) or not reason:
            raise AcdError(f"agent {agent_id!r}: pause: a reason is required")
        now = self._clock(now)
        out: list[Command] = []
        if a.state in (AgentState.BUSY, AgentState.WRAP_UP):
            a.pending = ("pause", reason)
            out.append(
                LogEvent("pause_pending", a.call_id, None, agent_id, {"reason": reason}, now)
            )
            return self._finish(now, out)
        if a.state is AgentState.RINGING:
            self._withdraw_agent_offer(a, now, out, "agent paused")
        a.pause_reason = reason
        self._set_state(a, AgentState.PAUSED, reason, now, out, force=True)
        out.append(LogEvent("pause", None, None, agent_id, {"reason": reason}, now))
        return self._finish(now, out)

    def agent_ready(self, agent_id: str, *, now: float) -> list[Command]:
        """Back to ready: ends a pause, ends wrap-up, or cancels a pending pause/logout."""
        a = self._agent(agent_id)
        if a.state is AgentState.OFFLINE:
            raise AcdError(f"agent {agent_id!r}: cannot become ready while logged out; log in")
        if a.state is AgentState.WRAP_UP:
            assert a.wrap is not None
            if a.wrap.needs_code:
                raise AcdError(
                    f"agent {agent_id!r}: wrap-up: queue {a.wrap.queue!r} needs a classification "
                    "code before the agent can be ready"
                )
            a.pending = None
            return self.wrap_up_done(agent_id, now=now)
        now = self._clock(now)
        out: list[Command] = []
        a.pending = None
        if a.state is AgentState.PAUSED:
            a.pause_reason = None
            a.unanswered = 0
            a.idle_since = now
            self._set_state(a, AgentState.READY, "ready", now, out)
            out.append(LogEvent("ready", None, None, agent_id, {}, now))
        return self._finish(now, out)

    def classification_given(
        self, agent_id: str, code: str, *, now: float, call_id: str | None = None
    ) -> list[Command]:
        """Record the classification code for the agent's wrap-up call (or ``call_id``).

        In wrap-up, the agent becomes ready once the queue's wrap-up time has
        passed (at once if it already has).
        """
        a = self._agent(agent_id)
        if not isinstance(code, str) or not code:
            raise AcdError(f"agent {agent_id!r}: classification: code must be a non-empty string")
        target = a.wrap.call_id if a.wrap is not None else call_id
        if target is None:
            raise AcdError(f"agent {agent_id!r}: classification: no call in wrap-up to classify")
        now = self._clock(now)
        queue = a.wrap.queue if a.wrap is not None else None
        if queue is not None:
            self._check_code(queue, agent_id, code)
        out: list[Command] = [LogEvent("classified", target, queue, agent_id, {"code": code}, now)]
        if a.wrap is not None:
            a.wrap.needs_code = False
            if a.wrap.base_end <= now:
                self._end_wrap(a, now, out, "wrap-up done")
        return self._finish(now, out)

    def wrap_up_done(
        self, agent_id: str, *, now: float, classification: str | None = None
    ) -> list[Command]:
        """The agent ends wrap-up early (with the classification if the queue needs one)."""
        a = self._agent(agent_id)
        if a.wrap is None:
            return []
        if a.wrap.needs_code and not classification:
            raise AcdError(
                f"agent {agent_id!r}: wrap-up: queue {a.wrap.queue!r} needs a classification "
                "code before the agent can be ready"
            )
        now = self._clock(now)
        out: list[Command] = []
        if classification:
            self._check_code(a.wrap.queue, agent_id, classification)
            out.append(
                LogEvent(
                    "classified",
                    a.wrap.call_id,
                    a.wrap.queue,
                    agent_id,
                    {"code": classification},
                    now,
                )
            )
            a.wrap.needs_code = False
        self._end_wrap(a, now, out, "wrap-up done")
        return self._finish(now, out)

    def _check_code(self, queue_id: str, agent_id: str, code: str) -> None:
        codes = self._queues[queue_id].classification_codes
        if codes and code not in codes:
            raise AcdError(
                f"agent {agent_id!r}: classification: {code!r} is not a code of queue "
                f"{queue_id!r} (codes: {', '.join(codes)})"
            )

    def schedule_login(
        self,
        agent_id: str,
        at: float,
        device: str | None = None,
        groups: Iterable[str] | None = None,
    ) -> None:
        """Log the agent in at ``at`` (device defaults to the remote-login number, S4)."""
        a = self._agent(agent_id)
        device = device or a.config.remote_number
        if not device:
            raise AcdError(
                f"agent {agent_id!r}: scheduled login needs a phone number "
                "(none given and the agent has no remote-login number)"
            )
        gs = None if groups is None else tuple(groups)
        self._seq += 1
        heapq.heappush(self._schedule, (float(at), self._seq, "login", agent_id, device, gs))

    def schedule_logout(self, agent_id: str, at: float) -> None:
        """Log the agent out at ``at`` (end of a scheduled login)."""
        self._agent(agent_id)
        self._seq += 1
        heapq.heappush(self._schedule, (float(at), self._seq, "logout", agent_id, None, None))

    # ------------------------------------------------------------------ timers

    def tick(self, *, now: float) -> list[Command]:
        """Run every timer due at ``now``: ring timeouts, wrap-up ends, scheduled
        logins, max-wait overflows, then distribution and announcements."""
        now = self._clock(now)
        out: list[Command] = []
        for rec in self._calls.values():
            if rec.failed:
                rec.failed = {k: v for k, v in rec.failed.items() if v[0] > now}
        for rec in sorted(
            (r for r in self._calls.values() if r.state == RINGING),
            key=lambda r: (r.ring_deadline, r.seq),
        ):
            if rec.ring_deadline is not None and rec.ring_deadline <= now:
                self._ring_timeout(rec, now, out)
        for a in list(self._agents.values()):
            if a.wrap is not None and a.wrap.deadline <= now:
                if a.wrap.needs_code:
                    out.append(
                        LogEvent(
                            "classification_missing", a.wrap.call_id, a.wrap.queue,
                            a.config.id, {}, now,
                        )
                    )  # fmt: skip
                self._end_wrap(a, now, out, "wrap-up time over")
        while self._schedule and self._schedule[0][0] <= now:
            _, _, action, agent_id, device, groups = heapq.heappop(self._schedule)
            a = self._agents[agent_id]
            if action == "login":
                assert device is not None
                chosen = a.config.default_login_groups() if groups is None else groups
                chosen = tuple(g for g in chosen if g in a.config.groups)
                self._login(a, device, frozenset(chosen), now, out)
            elif a.state is AgentState.BUSY:
                a.pending = ("logout", "scheduled logout")
            elif a.state is not AgentState.OFFLINE:
                self._go_offline(a, "scheduled logout", now, out)
        for entry in list(self._waiting):
            wrec = self._calls.get(entry[3])
            if wrec is None or wrec.state != WAITING or wrec.max_wait_done:
                continue
            q = self._queues[wrec.call.queue]
            if q.max_wait is not None and wrec.entered_at + q.max_wait <= now:
                wrec.max_wait_done = True
                assert q.max_wait_target is not None
                self._overflow(wrec, q.max_wait_target, "max wait", now, out)
        self._finish(now, out)
        for entry in list(self._waiting):
            rec = self._calls[entry[3]]
            if rec.next_announce is not None and rec.next_announce <= now:
                interval = self._queues[rec.call.queue].announce_interval
                assert interval is not None
                while rec.next_announce <= now:
                    rec.next_announce += interval
                pos = self.position(rec.call.id)
                assert pos is not None
                out.append(AnnouncePosition(rec.call, pos, self.estimated_wait(rec.call.id)))
        return out

    # ------------------------------------------------------------------ internals

    def _clock(self, now: float) -> float:
        if (
            type(now) is not float
            and (not isinstance(now, int | float) or isinstance(now, bool))
            or not math.isfinite(now)
        ):
            raise AcdError(f"now: expected a finite number of seconds, got {now!r}")
        # A clock that steps back is held still so deadlines never move backwards.
        self._now = max(self._now, float(now))
        return self._now

    def _agent(self, agent_id: str) -> _Agent:
        a = self._agents.get(agent_id)
        if a is None:
            raise AcdError(f"unknown agent {agent_id!r}")
        return a

    def _queue(self, queue_id: str) -> QueueConfig:
        q = self._queues.get(queue_id)
        if q is None:
            raise AcdError(f"unknown queue {queue_id!r}")
        return q

    def _known_call(self, call_id: str) -> _CallRec | None:
        """The live call, or None when it already left; unknown ids are an error."""
        rec = self._calls.get(call_id)
        if rec is None and call_id not in self._gone:
            raise AcdError(f"unknown call {call_id!r}")
        return rec

    def _forget(self, rec: _CallRec) -> None:
        del self._calls[rec.call.id]
        self._gone[rec.call.id] = rec.call
        while len(self._gone) > self._gone_memory:
            self._gone.popitem(last=False)

    def _waits(self, rec: _CallRec, now: float) -> dict[str, float]:
        assert rec.call.arrived_at is not None
        return {"wait": now - rec.call.arrived_at, "queue_wait": now - rec.entered_at}

    def _key(self, rec: _CallRec) -> tuple[int, float, int, str]:
        prio = self._queues[rec.call.queue].priority + rec.call.priority
        assert rec.call.arrived_at is not None
        return (-prio, rec.call.arrived_at, rec.seq, rec.call.id)

    def _insert_waiting(self, rec: _CallRec) -> None:
        rec.state = WAITING
        rec.ring_deadline = None
        rec.key = self._key(rec)
        bisect.insort(self._waiting, rec.key)

    def _remove_waiting(self, rec: _CallRec) -> None:
        i = bisect.bisect_left(self._waiting, rec.key)
        if i < len(self._waiting) and self._waiting[i] == rec.key:
            del self._waiting[i]

    def _queue_length(self, queue_id: str, excluding: str) -> int:
        """Calls waiting or ringing in the queue, not counting ``excluding``."""
        return sum(
            1
            for r in self._calls.values()
            if r.call.queue == queue_id and r.state in (WAITING, RINGING) and r.call.id != excluding
        )

    def _anyone_logged_in(self, queue_id: str) -> bool:
        groups = self._queue_groups[queue_id]
        return any(
            a.state is not AgentState.OFFLINE and a.groups & groups for a in self._agents.values()
        )

    def _enter_queue(self, rec: _CallRec, queue_id: str, now: float, out: list[Command]) -> None:
        """Place a call in a queue, applying the queue's arrival overflow rules."""
        q = self._queues[queue_id]
        rec.visited.append(queue_id)
        rec.entered_at = now
        rec.blocked = set()
        rec.max_wait_done = False
        rec.unanswered_by = set()
        rec.next_announce = now + q.announce_interval if q.announce_interval else None
        full = q.max_queue_length is not None and (
            self._queue_length(queue_id, rec.call.id) >= q.max_queue_length
        )
        if full:
            assert q.queue_full_target is not None
            if self._overflow(rec, q.queue_full_target, "queue full", now, out, placed=False):
                return
        nobody = q.no_agent_target is not None and not self._anyone_logged_in(queue_id)
        if nobody:
            assert q.no_agent_target is not None
            if self._overflow(rec, q.no_agent_target, "no agent logged in", now, out, placed=False):
                return
        self._insert_waiting(rec)
        out.append(
            LogEvent(
                "queued",
                rec.call.id,
                queue_id,
                None,
                {"priority": -rec.key[0], "position": self.position(rec.call.id)},
                now,
            )
        )

    def _overflow(
        self,
        rec: _CallRec,
        target: str,
        reason: str,
        now: float,
        out: list[Command],
        *,
        placed: bool = True,
    ) -> bool:
        """Move the call on; False when that would loop back (the call stays)."""
        from_queue = rec.call.queue
        if target in self._queues and target in rec.visited:
            if reason not in rec.blocked:
                rec.blocked.add(reason)
                out.append(
                    LogEvent(
                        "overflow_skipped",
                        rec.call.id,
                        from_queue,
                        None,
                        {"reason": reason, "target": target, "why": "target already visited"},
                        now,
                    )
                )
            return False
        if placed:
            self._remove_waiting(rec)
        data = {"reason": reason, "to": target, **self._waits(rec, now)}
        out.append(LogEvent("overflowed", rec.call.id, from_queue, None, data, now))
        if target in self._queues:
            rec.call = replace(rec.call, queue=target)
            out.append(Overflow(rec.call, target, reason, internal=True))
            self._enter_queue(rec, target, now, out)
        else:
            out.append(Overflow(rec.call, target, reason, internal=False))
            self._forget(rec)
        return True

    def _set_state(
        self,
        a: _Agent,
        new: AgentState,
        reason: str,
        now: float,
        out: list[Command],
        *,
        force: bool = False,
    ) -> None:
        if a.state is new and not force:
            return
        old, a.state = a.state, new
        a.state_since = now
        if old is AgentState.READY:
            del self._ready[a.config.id]
        elif new is AgentState.READY:
            self._ready[a.config.id] = a
        out.append(AgentStateChanged(a.config.id, old, new, reason, now))

    def _login(
        self, a: _Agent, device: str, groups: frozenset[str], now: float, out: list[Command]
    ) -> None:
        replaced = a.state is not AgentState.OFFLINE
        if replaced:
            out.append(AgentLoggedOut(a.config.id, f"logged in again on {device}"))
        if a.state is AgentState.RINGING:
            self._withdraw_agent_offer(a, now, out, "login replaced")
        a.device = device
        a.groups = groups
        a.pending = None
        out.append(
            LogEvent(
                "login",
                None,
                None,
                a.config.id,
                {"device": device, "groups": sorted(groups), "replaced": replaced},
                now,
            )
        )
        if a.state in (AgentState.BUSY, AgentState.WRAP_UP):
            return  # the ongoing call or its wrap-up carries on with the new login
        if not replaced:
            a.calls = 0
        a.unanswered = 0
        a.pause_reason = None
        a.idle_since = now
        self._set_state(a, AgentState.READY, "login", now, out)

    def _go_offline(self, a: _Agent, reason: str, now: float, out: list[Command]) -> None:
        if a.state is AgentState.RINGING:
            self._withdraw_agent_offer(a, now, out, "agent logged out")
        if a.wrap is not None:
            if a.wrap.aht:
                self._aht[a.wrap.queue].add(a.wrap.talk + now - a.wrap.started)
            a.wrap = None
        a.pending = None
        a.pause_reason = None
        a.groups = frozenset()
        a.device = None
        self._set_state(a, AgentState.OFFLINE, reason, now, out)
        out.append(LogEvent("logout", None, None, a.config.id, {"reason": reason}, now))

    def _free(self, a: _Agent, reason: str, now: float, out: list[Command]) -> None:
        """The agent finished a work item: ready, or the pause/logout asked for meanwhile."""
        a.call_id = None
        a.wrap = None
        a.idle_since = now
        pending, a.pending = a.pending, None
        if pending is not None and pending[0] == "logout":
            self._go_offline(a, pending[1], now, out)
        elif pending is not None:
            a.pause_reason = pending[1]
            self._set_state(a, AgentState.PAUSED, pending[1], now, out)
            out.append(LogEvent("pause", None, None, a.config.id, {"reason": pending[1]}, now))
        else:
            self._set_state(a, AgentState.READY, reason, now, out)

    def _end_wrap(self, a: _Agent, now: float, out: list[Command], reason: str) -> None:
        w = a.wrap
        assert w is not None
        if w.aht:
            self._aht[w.queue].add(w.talk + now - w.started)
        out.append(
            LogEvent(
                "wrap_up_ended", w.call_id, w.queue, a.config.id, {"wrap_up": now - w.started}, now
            )
        )
        self._free(a, reason, now, out)

    def _cancel_offers(self, rec: _CallRec, now: float, out: list[Command], why: str) -> None:
        """Stop ringing every agent still offered ``rec``; they are ready again."""
        for agent_id in list(rec.offers):
            out.append(CancelOffer(rec.call, agent_id))
            out.append(
                LogEvent(
                    "offer_cancelled", rec.call.id, rec.call.queue, agent_id, {"reason": why}, now
                )
            )
            a = self._agents[agent_id]
            a.call_id = None
            self._set_state(a, AgentState.READY, why, now, out)
        rec.offers.clear()

    def _withdraw_agent_offer(self, a: _Agent, now: float, out: list[Command], why: str) -> None:
        """Take an offer away from one ringing agent without counting it as unanswered."""
        assert a.call_id is not None
        rec = self._calls[a.call_id]
        del rec.offers[a.config.id]
        out.append(CancelOffer(rec.call, a.config.id))
        out.append(
            LogEvent(
                "offer_cancelled", rec.call.id, rec.call.queue, a.config.id, {"reason": why}, now
            )
        )
        a.call_id = None
        self._set_state(a, AgentState.READY, why, now, out)
        if not rec.offers:
            self._insert_waiting(rec)

    def _count_unanswered(self, a: _Agent, queue_id: str, now: float, out: list[Command]) -> None:
        # The queue of the offer that went unanswered may set its own limit and action.
        q = self._queues.get(queue_id)
        limit = q.max_unanswered if q is not None and q.max_unanswered else self.max_unanswered
        action = q.unanswered_action if q is not None and q.unanswered_action else None
        a.unanswered += 1
        if a.unanswered < limit:
            return
        reason = f"{a.unanswered} unanswered offers in a row"
        if (action or self.unanswered_action) == "logout":
            self._go_offline(a, reason, now, out)
            out.append(AgentLoggedOut(a.config.id, reason))
        else:
            a.pause_reason = reason
            self._set_state(a, AgentState.PAUSED, reason, now, out)
            out.append(LogEvent("pause", None, None, a.config.id, {"reason": reason}, now))

    def _ring_timeout(self, rec: _CallRec, now: float, out: list[Command]) -> None:
        for agent_id in list(rec.offers):
            out.append(CancelOffer(rec.call, agent_id))
            out.append(
                LogEvent(
                    "no_answer",
                    rec.call.id,
                    rec.call.queue,
                    agent_id,
                    {"rang": now - rec.offers[agent_id]},
                    now,
                )
            )
            a = self._agents[agent_id]
            a.call_id = None
            rec.unanswered_by.add(agent_id)
            self._set_state(a, AgentState.READY, "no answer", now, out)
            self._count_unanswered(a, rec.call.queue, now, out)
        rec.offers.clear()
        self._insert_waiting(rec)

    def _offer_ended(
        self, call_id: str, agent_id: str, now: float, kind: str, reason: str
    ) -> list[Command]:
        a = self._agent(agent_id)
        rec = self._known_call(call_id)
        now = self._clock(now)
        if rec is None or rec.state != RINGING or agent_id not in rec.offers:
            queue = rec.call.queue if rec else self._gone[call_id].queue
            return [LogEvent("stale_offer_response", call_id, queue, agent_id, {"kind": kind}, now)]
        out: list[Command] = []
        del rec.offers[agent_id]
        data: dict[str, Any] = {"reason": reason}
        retry = self._queues[rec.call.queue].failed_offer_retry
        if kind == "offer_failed" and retry > 0:
            assert a.device is not None
            rec.failed[agent_id] = (now + retry, a.device)
            data["retry_at"] = now + retry
        out.append(LogEvent(kind, call_id, rec.call.queue, agent_id, data, now))
        rec.unanswered_by.add(agent_id)
        a.call_id = None
        self._set_state(a, AgentState.READY, kind, now, out)
        self._count_unanswered(a, rec.call.queue, now, out)
        if not rec.offers:
            self._insert_waiting(rec)
        return self._finish(now, out)

    @staticmethod
    def _held_back(rec: _CallRec, a: _Agent, now: float) -> bool:
        """Whether ``a``'s device failed on ``rec`` too recently to try it again."""
        held = rec.failed.get(a.config.id)
        return held is not None and held[0] > now and held[1] == a.device

    def _has_capacity(self, a: _Agent, call: Call) -> bool:
        """Whether the agent can take ``call`` on top of its current work.

        Today every channel is exclusive: one work item per agent.  Chat slot
        limits (S15: several chats up to a maximum) belong here: an agent
        holding only chats below its slot limit could take another chat.
        """
        return a.call_id is None

    def _finish(self, now: float, out: list[Command]) -> list[Command]:
        """After every event: overflow calls whose queues lost all agents, then distribute."""
        for entry in list(self._waiting) if self._any_no_agent_rule else ():
            rec = self._calls.get(entry[3])
            if rec is None or rec.state != WAITING:
                continue
            q = self._queues[rec.call.queue]
            if (
                q.no_agent_target is not None
                and "no agent logged in" not in rec.blocked
                and not self._anyone_logged_in(q.id)
            ):
                self._overflow(rec, q.no_agent_target, "no agent logged in", now, out)
        self._dispatch(now, out)
        return out

    def _dispatch(self, now: float, out: list[Command]) -> None:
        """Offer waiting calls, best first, to ready agents until no match is left."""
        if not self._waiting:
            return
        ready = list(self._ready.values())
        if not ready:
            return
        for entry in list(self._waiting):
            if not ready:
                break
            rec = self._calls[entry[3]]
            q = self._queues[rec.call.queue]
            groups = self._queue_groups[q.id]
            eligible = [
                a
                for a in ready
                if a.groups & groups
                and self._has_capacity(a, rec.call)
                and not self._held_back(rec, a, now)
            ]
            if not eligible:
                continue
            fresh = [a for a in eligible if a.config.id not in rec.unanswered_by]
            pool = fresh or eligible
            candidates = [
                Candidate(
                    a.config.id,
                    a.order,
                    a.idle_since,
                    a.calls,
                    min(
                        (lv for g in a.groups & groups if (lv := a.config.level_in(g)) is not None),
                        default=0,
                    ),
                )
                for a in pool
            ]
            chosen = choose(q.strategy, candidates, self._rr_last.get(q.id), len(self._agents))
            self._remove_waiting(rec)
            rec.state = RINGING
            rec.ring_deadline = now + q.ring_timeout
            for agent_id in chosen:
                a = self._agents[agent_id]
                ready.remove(a)
                rec.offers[agent_id] = now
                a.call_id = rec.call.id
                self._rr_last[q.id] = a.order
                assert a.device is not None
                self._set_state(a, AgentState.RINGING, "offered", now, out)
                out.append(OfferCall(rec.call, agent_id, a.device, q.ring_timeout))
                out.append(
                    LogEvent("offered", rec.call.id, q.id, agent_id, {"device": a.device}, now)
                )
