"""The incremental rollup: call-log events in, one at a time and in order; per-interval
figures of every queue and agent out.

It keeps one accumulator per (queue, interval) and per (agent, interval), plus the state of
each call that is still live (or whose agent is still in wrap-up) and of each agent: a month
of events never has to be in memory at once, and reading the figures costs nothing more
than copying the accumulators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from calllog import AGENT_CALL_ID, CallEvent, EventKind

from .figures import MOS_LOW, AgentFigures, QueueFigures
from .periods import Interval, Periods

K = EventKind

# Agent states, as the call log tells them (the ACD does not log its state changes as
# such: they follow from these events, see docs/statistics.md).
OFFLINE, READY, RINGING, BUSY, WRAP_UP, PAUSED = (
    "offline", "ready", "ringing", "busy", "wrap_up", "paused",
)  # fmt: skip
_TO_READY = frozenset(
    {K.NO_ANSWER, K.REJECTED, K.OFFER_FAILED, K.OFFER_CANCELLED, K.ENDED, K.WRAP_UP_ENDED,
     K.READY}
)  # fmt: skip
UNANSWERED_REASON = "unanswered offers in a row"


@dataclass(frozen=True, slots=True)
class QueueRules:
    """A queue's thresholds for the figures, in seconds."""

    service_level_seconds: float = 20.0
    short_abandon_seconds: float = 5.0

    def __post_init__(self) -> None:
        for name in ("service_level_seconds", "short_abandon_seconds"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise ValueError(f"reports: {name}: expected seconds (a number >= 0), got {v!r}")


class _Call:
    __slots__ = (
        "first", "queue", "key", "entered", "moved_to", "answered_queue", "answered_key",
        "answered_at", "agent", "agent_key", "closed", "voicemail", "hung_up", "wrap_at",
        "direct", "transfer_in", "direct_agent", "direct_at",
    )  # fmt: skip

    def __init__(self, first: float) -> None:
        self.first = first  # the start of the interval of the call's first event
        self.queue: str | None = None  # the queue of the visit in progress
        self.key = 0.0
        self.entered = 0.0
        self.moved_to: str | None = None  # the target of the last overflow out
        self.answered_queue: str | None = None
        self.answered_key = 0.0
        self.answered_at: float | None = None
        self.agent: str | None = None
        self.agent_key = 0.0
        self.closed = False
        self.voicemail = False
        self.hung_up = False
        self.wrap_at: float | None = None  # wrap-up in progress since
        self.direct = False  # counted as a direct call of its agent
        self.transfer_in = False  # the next queue visit is a transfer into that queue
        # A call transferred straight to an agent (no queue, no ACD): whom, since when.
        self.direct_agent: str | None = None
        self.direct_at = 0.0


class _Agent:
    __slots__ = ("state", "since", "reason", "wrap_call", "own_call", "before")

    def __init__(self) -> None:
        self.state = OFFLINE
        self.since = 0.0
        self.reason: str | None = None
        self.wrap_call: str | None = None
        # A call outside the queues (outbound, direct) in progress, and the state to
        # return to after it (what the ACD does: busy meanwhile, then as before).
        self.own_call: str | None = None
        self.before: tuple[str, str | None] | None = None


class Rollup:
    """Figures per queue and per agent and interval from call-log events fed in order.

    ``zone`` and ``interval`` fix the intervals (``reports.periods``); ``rules`` gives each
    queue's service-level and short-abandon thresholds (``default`` for the others).
    """

    def __init__(
        self,
        zone: str | ZoneInfo,
        interval: str | Interval = Interval.HOUR,
        *,
        rules: Mapping[str, QueueRules] | None = None,
        default: QueueRules | None = None,
    ) -> None:
        self.periods = Periods(zone, interval)
        self._rules = dict(rules or {})
        self._default = default or QueueRules()
        self._queues: dict[tuple[str, float], QueueFigures] = {}
        self._agents: dict[tuple[str, float], AgentFigures] = {}
        self._calls: dict[str, _Call] = {}
        self._agent_state: dict[str, _Agent] = {}
        self.now: float | None = None  # the time of the last event fed
        self.events = 0

    # ------------------------------------------------------------------ feeding

    def add_all(self, events: Iterable[CallEvent]) -> None:
        for event in events:
            self.add(event)

    def add(self, event: CallEvent) -> None:
        """Take one event; events must come in the order they happened."""
        ts = event.at.timestamp()
        if self.now is not None and ts < self.now:
            raise ValueError(
                f"reports: events must come in time order: {event.kind} of "
                f"{event.call_id} at {event.at.isoformat()} is before the last one fed"
            )
        self.now = ts
        self.events += 1
        kind = event.kind
        agent = event.agent
        if event.call_id == AGENT_CALL_ID:
            if agent is not None:
                self._agent_event(kind, agent, ts, event.data)
            return
        call = self._calls.get(event.call_id)
        if call is None and kind not in _AFTER_CALL_KINDS:
            call = self._calls[event.call_id] = _Call(self.periods.start(ts))
        handler = _CALL_HANDLERS.get(kind)
        if handler is not None and call is not None:
            handler(self, call, event, ts)
        if agent is not None and kind in _AGENT_CALL_KINDS:
            self._agent_event(kind, agent, ts, event.data, call_id=event.call_id)

    # ------------------------------------------------------------------ reading

    def queue_figures(
        self, queues: Iterable[str] | None = None, *, group_by: Mapping[str, str] | None = None
    ) -> list[QueueFigures]:
        """Every (queue, interval) with something in it, by queue then time.

        ``group_by`` maps queues to a group (an answering point): the figures are then
        summed per group and interval, and queues not in the mapping are left out.
        """
        wanted = None if queues is None else set(queues)
        out: dict[tuple[str, float], QueueFigures] = {}
        for (queue, lo), acc in self._queues.items():
            if wanted is not None and queue not in wanted:
                continue
            if group_by is None:
                out[(queue, lo)] = replace(acc)
                continue
            group = group_by.get(queue)
            if group is None:
                continue
            have = out.get((group, lo))
            if have is None:
                out[(group, lo)] = replace(acc, queue=group)
            else:
                have.add(acc)
        return [out[k] for k in sorted(out)]

    def agent_figures(self, agents: Iterable[str] | None = None) -> list[AgentFigures]:
        """Every (agent, interval) with something in it, by agent then time; the state an
        agent is in now counts up to the last event fed."""
        if self.now is not None:
            for agent_id, a in self._agent_state.items():
                if a.state != OFFLINE and a.since < self.now:
                    self._accrue(agent_id, a, self.now)
        wanted = None if agents is None else set(agents)
        return [
            replace(acc, paused_by_reason=dict(acc.paused_by_reason))
            for key, acc in sorted(self._agents.items())
            if wanted is None or key[0] in wanted
        ]

    def live_calls(self) -> int:
        """Calls still followed: live, or with an agent in wrap-up."""
        return len(self._calls)

    # ------------------------------------------------------------------ accumulators

    def _queue(self, queue: str, lo: float) -> QueueFigures:
        acc = self._queues.get((queue, lo))
        if acc is None:
            start, end = self.periods.bounds(lo)
            r = self._rules.get(queue, self._default)
            acc = self._queues[(queue, lo)] = QueueFigures(
                queue,
                self.periods.local(start),
                self.periods.local(end),
                r.service_level_seconds,
                r.short_abandon_seconds,
            )
        return acc

    def _agent(self, agent: str, lo: float) -> AgentFigures:
        acc = self._agents.get((agent, lo))
        if acc is None:
            start, end = self.periods.bounds(lo)
            acc = self._agents[(agent, lo)] = AgentFigures(
                agent, self.periods.local(start), self.periods.local(end)
            )
        return acc

    # ------------------------------------------------------------------ calls

    def _visit(self, call: _Call, queue: str, ts: float, overflow_in: bool) -> QueueFigures:
        call.queue, call.key, call.entered, call.moved_to = queue, self.periods.start(ts), ts, None
        acc = self._queue(queue, call.key)
        acc.offered += 1
        if overflow_in:
            acc.overflow_in += 1
        return acc

    def _end_visit(self, call: _Call, ts: float) -> tuple[QueueFigures, float]:
        assert call.queue is not None
        acc = self._queue(call.queue, call.key)
        wait = ts - call.entered
        acc.wait += wait
        acc.waits += 1
        if wait > acc.longest_wait:
            acc.longest_wait = wait
        call.queue = None
        return acc, wait

    def _in_queue(self, call: _Call, e: CallEvent, ts: float) -> bool:
        """Whether ``e`` belongs to the visit in progress, opening one after an overflow
        into ``e.queue`` (the ACD's ``queued``, or its next ``overflowed`` from there)."""
        if call.queue is not None:
            return call.queue == e.queue
        if call.moved_to is not None and call.moved_to == e.queue:
            self._visit(call, e.queue, ts, True)
            return True
        return False

    def _arrived(self, call: _Call, e: CallEvent, ts: float) -> None:
        if e.queue is not None:
            acc = self._visit(call, e.queue, ts, False)
            if call.transfer_in:
                acc.transferred_in += 1
                call.transfer_in = False

    def _transfer_started(self, call: _Call, e: CallEvent, ts: float) -> None:
        if (e.data or {}).get("target_kind") == "queue":
            call.transfer_in = True

    def _transfer_completed(self, call: _Call, e: CallEvent, ts: float) -> None:
        """The transferring agent's share ended (their ``ended`` from the ACD, or here for
        a direct target passing it on); a direct target agent's share starts."""
        data = e.data or {}
        if call.answered_queue is not None:
            self._queue(call.answered_queue, call.answered_key).transferred_out += 1
        if e.agent is not None:
            self._agent(e.agent, self.periods.start(ts)).transferred += 1
        self._end_direct(call, ts)
        to = data.get("to_agent")
        if to and data.get("target_kind") == "agent":
            call.direct_agent, call.direct_at = str(to), ts
            acc = self._agent(str(to), self.periods.start(ts))
            acc.answered += 1
            acc.transferred_in += 1

    def _end_direct(self, call: _Call, ts: float) -> None:
        if call.direct_agent is not None:
            self._agent(call.direct_agent, self.periods.start(call.direct_at)).talk += (
                ts - call.direct_at
            )
            call.direct_agent = None

    def _queued(self, call: _Call, e: CallEvent, ts: float) -> None:
        self._in_queue(call, e, ts)

    def _overflowed(self, call: _Call, e: CallEvent, ts: float) -> None:
        if not self._in_queue(call, e, ts):
            return
        acc, _ = self._end_visit(call, ts)
        acc.overflow_out += 1
        call.moved_to = (e.data or {}).get("to")

    def _answered(self, call: _Call, e: CallEvent, ts: float) -> None:
        if not self._in_queue(call, e, ts):
            return
        queue, key = call.queue, call.key
        acc, wait = self._end_visit(call, ts)
        acc.answered += 1
        acc.answer_wait += wait
        if wait <= acc.service_level_seconds:
            acc.answered_within += 1
        call.answered_queue, call.answered_key, call.answered_at = queue, key, ts
        if e.agent is not None:
            call.agent, call.agent_key = e.agent, self.periods.start(ts)
            self._agent(e.agent, call.agent_key).answered += 1

    def _abandoned(self, call: _Call, e: CallEvent, ts: float) -> None:
        if not self._in_queue(call, e, ts):
            return
        acc, wait = self._end_visit(call, ts)
        acc.abandoned += 1
        acc.abandon_wait += wait
        if wait < acc.short_abandon_seconds:
            acc.abandoned_short += 1
        if wait <= acc.service_level_seconds:
            acc.abandoned_within += 1

    def _ended(self, call: _Call, e: CallEvent, ts: float) -> None:
        if call.answered_at is None or call.answered_queue is None:
            return
        talk = ts - call.answered_at
        acc = self._queue(call.answered_queue, call.answered_key)
        acc.talk += talk
        acc.talks += 1
        if call.agent is not None:
            self._agent(call.agent, call.agent_key).talk += talk

    def _wrap_started(self, call: _Call, e: CallEvent, ts: float) -> None:
        call.wrap_at = ts

    def _wrap_ended(self, call: _Call, e: CallEvent, ts: float) -> None:
        self._end_wrap(e.call_id, call, ts)

    def _end_wrap(self, call_id: str, call: _Call, ts: float) -> None:
        if call.wrap_at is None:
            return
        if call.answered_queue is not None:
            acc = self._queue(call.answered_queue, call.answered_key)
            acc.wrap_up += ts - call.wrap_at
            acc.wrap_ups += 1
        call.wrap_at = None
        if call.hung_up:
            self._calls.pop(call_id, None)

    def _closed(self, call: _Call, e: CallEvent, ts: float) -> None:
        if not call.closed and e.queue is not None:
            call.closed = True
            self._queue(e.queue, call.first).closed += 1

    def _voicemail(self, call: _Call, e: CallEvent, ts: float) -> None:
        if not call.voicemail and e.queue is not None:
            call.voicemail = True
            self._queue(e.queue, call.first).voicemails += 1

    # Calls outside the queues: per agent (and per queue for outbound ones), never offered.

    def _outbound_placed(self, call: _Call, e: CallEvent, ts: float) -> None:
        lo = self.periods.start(ts)
        if e.agent is not None:
            self._agent(e.agent, lo).outbound += 1
        if e.queue is not None:
            self._queue(e.queue, lo).outbound += 1

    def _outbound_answered(self, call: _Call, e: CallEvent, ts: float) -> None:
        lo = self.periods.start(ts)
        if e.agent is not None:
            self._agent(e.agent, lo).outbound_answered += 1
        if e.queue is not None:
            self._queue(e.queue, lo).outbound_answered += 1

    def _outbound_ended(self, call: _Call, e: CallEvent, ts: float) -> None:
        talk = _talk(e)
        lo = self.periods.start(ts)
        if e.agent is not None:
            self._agent(e.agent, lo).outbound_talk += talk
        if e.queue is not None:
            self._queue(e.queue, lo).outbound_talk += talk

    def _direct_seen(self, call: _Call, e: CallEvent, ts: float) -> None:
        if not call.direct and e.agent is not None:
            call.direct = True
            self._agent(e.agent, self.periods.start(ts)).direct += 1

    def _direct_answered(self, call: _Call, e: CallEvent, ts: float) -> None:
        self._direct_seen(call, e, ts)
        if e.agent is not None:
            self._agent(e.agent, self.periods.start(ts)).direct_answered += 1

    def _direct_ended(self, call: _Call, e: CallEvent, ts: float) -> None:
        if e.agent is not None:
            self._agent(e.agent, self.periods.start(ts)).direct_talk += _talk(e)

    def _hangup(self, call: _Call, e: CallEvent, ts: float) -> None:
        call.hung_up = True
        self._end_direct(call, ts)
        mos = (e.data or {}).get("mos")
        if call.answered_queue is not None and isinstance(mos, int | float):
            acc = self._queue(call.answered_queue, call.answered_key)
            acc.mos += mos
            acc.mos_calls += 1
            if mos < MOS_LOW:
                acc.mos_low += 1
        if call.wrap_at is None:
            self._calls.pop(e.call_id, None)

    # ------------------------------------------------------------------ agents

    def _agent_event(
        self,
        kind: str,
        agent_id: str,
        ts: float,
        data: Mapping[str, object] | None,
        call_id: str | None = None,
    ) -> None:
        a = self._agent_state.get(agent_id)
        if a is None:
            a = self._agent_state[agent_id] = _Agent()
        if kind in _OWN_CALL_KINDS:
            self._own_call(agent_id, a, kind, ts, call_id)
            return
        if a.own_call is not None and kind in _TO_READY and call_id != a.own_call:
            # The ACD ended a wrap-up as the outbound call began: ready after that call.
            if kind == K.WRAP_UP_ENDED:
                a.wrap_call = None
            a.before = (READY, None)
            return
        if kind == K.OFFERED:
            self._agent(agent_id, self.periods.start(ts)).offers += 1
            self._set(agent_id, a, RINGING, ts)
        elif kind == K.ANSWERED:
            self._set(agent_id, a, BUSY, ts)
        elif kind == K.WRAP_UP_STARTED:
            a.wrap_call = call_id
            self._set(agent_id, a, WRAP_UP, ts)
        elif kind in _TO_READY:
            if kind == K.NO_ANSWER:
                self._agent(agent_id, self.periods.start(ts)).no_answers += 1
            elif kind in (K.REJECTED, K.OFFER_FAILED):
                self._agent(agent_id, self.periods.start(ts)).declined += 1
            elif kind == K.WRAP_UP_ENDED:
                a.wrap_call = None
            self._set(agent_id, a, READY, ts)
        elif kind == K.LOGIN:
            if a.state not in (BUSY, WRAP_UP):  # a call or its wrap-up goes on
                self._set(agent_id, a, READY, ts)
        elif kind == K.PAUSE or kind == K.LOGOUT:
            reason = str((data or {}).get("reason") or "")
            if reason.endswith(UNANSWERED_REASON):
                self._agent(agent_id, self.periods.start(ts)).unanswered_logouts += 1
            if kind == K.PAUSE:
                self._set(agent_id, a, PAUSED, ts, reason or "pause")
            else:
                if a.wrap_call is not None:  # logging out ends the wrap-up
                    call = self._calls.get(a.wrap_call)
                    if call is not None:
                        self._end_wrap(a.wrap_call, call, ts)
                    a.wrap_call = None
                self._set(agent_id, a, OFFLINE, ts)

    def _own_call(
        self, agent_id: str, a: _Agent, kind: str, ts: float, call_id: str | None
    ) -> None:
        """Busy (or ringing) during an outbound or direct call; then back as before."""
        if kind in (K.OUTBOUND_PLACED, K.DIRECT_OFFERED, K.DIRECT_ANSWERED):
            if a.state == OFFLINE and a.own_call is None:
                return  # not logged in: the call counts, the agent's time does not
            if a.own_call is None:
                a.own_call, a.before = call_id, (a.state, a.reason)
            state = RINGING if kind == K.DIRECT_OFFERED else BUSY
            self._set(agent_id, a, state, ts, a.reason if state == a.state else None)
        elif a.own_call == call_id and a.before is not None:
            state, reason = a.before
            a.own_call = a.before = None
            self._set(agent_id, a, state, ts, reason)

    def _set(
        self, agent_id: str, a: _Agent, state: str, ts: float, reason: str | None = None
    ) -> None:
        if a.state != OFFLINE and ts > a.since:
            self._accrue(agent_id, a, ts)
        a.state, a.since, a.reason = state, ts, reason

    def _accrue(self, agent_id: str, a: _Agent, until: float) -> None:
        """Add the time in ``a.state`` from ``a.since`` to ``until``, cut per interval."""
        t = a.since
        state = a.state
        while t < until:
            lo, hi = self.periods.bounds(t)
            seg = min(hi, until) - t
            acc = self._agent(agent_id, lo)
            if state == PAUSED:
                acc.paused += seg
                reason = a.reason or "pause"
                acc.paused_by_reason[reason] = acc.paused_by_reason.get(reason, 0.0) + seg
            else:
                setattr(acc, state, getattr(acc, state) + seg)
            t = min(hi, until)
        a.since = until


_CALL_HANDLERS: dict[str, Callable[[Rollup, _Call, CallEvent, float], None]] = {
    K.ARRIVED: Rollup._arrived,
    K.QUEUED: Rollup._queued,
    K.OVERFLOWED: Rollup._overflowed,
    K.ANSWERED: Rollup._answered,
    K.ABANDONED: Rollup._abandoned,
    K.ENDED: Rollup._ended,
    K.WRAP_UP_STARTED: Rollup._wrap_started,
    K.WRAP_UP_ENDED: Rollup._wrap_ended,
    K.CLOSED: Rollup._closed,
    K.VOICEMAIL_STORED: Rollup._voicemail,
    K.HANGUP: Rollup._hangup,
    K.OUTBOUND_PLACED: Rollup._outbound_placed,
    K.OUTBOUND_ANSWERED: Rollup._outbound_answered,
    K.OUTBOUND_ENDED: Rollup._outbound_ended,
    K.DIRECT_OFFERED: Rollup._direct_seen,
    K.DIRECT_MISSED: Rollup._direct_seen,
    K.DIRECT_ANSWERED: Rollup._direct_answered,
    K.DIRECT_ENDED: Rollup._direct_ended,
    K.TRANSFER_STARTED: Rollup._transfer_started,
    K.TRANSFER_COMPLETED: Rollup._transfer_completed,
}


def _talk(e: CallEvent) -> float:
    value = (e.data or {}).get("talk")
    return float(value) if isinstance(value, int | float) else 0.0


# Events that may follow a call's hang-up: they do not start following it again.
_AFTER_CALL_KINDS = frozenset(
    {K.WRAP_UP_ENDED, K.CLASSIFIED, K.CLASSIFICATION_MISSING, K.LATE_ANSWER,
     K.STALE_OFFER_RESPONSE, K.LOGOUT_PENDING, K.PAUSE_PENDING}
)  # fmt: skip
# Calls outside the queues: the agent is busy (ringing) from the first to the last.
_OWN_CALL_KINDS = frozenset(
    {K.OUTBOUND_PLACED, K.OUTBOUND_FAILED, K.OUTBOUND_ENDED, K.DIRECT_OFFERED,
     K.DIRECT_ANSWERED, K.DIRECT_MISSED, K.DIRECT_ENDED}
)  # fmt: skip
# Call events that change the state of the agent they name.
_AGENT_CALL_KINDS = frozenset(
    {K.OFFERED, K.ANSWERED, K.WRAP_UP_STARTED, K.NO_ANSWER, K.REJECTED, K.OFFER_FAILED,
     K.OFFER_CANCELLED, K.ENDED, K.WRAP_UP_ENDED}
) | _OWN_CALL_KINDS  # fmt: skip
