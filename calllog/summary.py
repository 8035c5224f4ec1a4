"""A call's summary (the ``calls`` row), computed from its events alone.

Nothing here reads a call's in-memory state: what the summary says is what the events
say, so a recount from the stored events gives the same row (statistics rely on that).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .event import AGENT_CALL_ID, CallEvent
from .kinds import TERMINAL_KINDS, EventKind, Outcome

K = EventKind

# Causes the call core names in the hang-up event that say more than the path did.
_CAUSES = frozenset(
    {
        Outcome.REJECTED,
        Outcome.CANCELLED,
        Outcome.NO_ACK,
        Outcome.ERROR,
        Outcome.SHUTDOWN,
        Outcome.SERVER_STOPPED,
    }
)
_SERVICE_OUTCOMES: tuple[tuple[frozenset[str], Outcome], ...] = (
    (frozenset({K.VOICEMAIL_STORED, K.VOICEMAIL_EMPTY, K.VOICEMAIL_NO_MAILBOX}), Outcome.VOICEMAIL),
    (frozenset({K.CLOSED}), Outcome.CLOSED),
    (frozenset({K.REMOTE_LOGIN}), Outcome.REMOTE_LOGIN),
    (
        frozenset(k for k in EventKind if k.value.startswith("prompt_recording")),
        Outcome.PROMPT_RECORDING,
    ),
    (
        frozenset(k for k in EventKind if k.value.startswith("voicemail_listen"))
        | {K.VOICEMAIL_DELETED, K.VOICEMAIL_KEPT},
        Outcome.VOICEMAIL_LISTEN,
    ),
    (frozenset({K.SERVICE_UNAVAILABLE}), Outcome.SERVICE_UNAVAILABLE),
    (frozenset({K.CALLBACK_REQUESTED}), Outcome.CALLBACK_REQUESTED),
)


# Calls outside the queues: the events that start and end their talk.
_OWN_TALK = (
    (K.OUTBOUND_ANSWERED, K.OUTBOUND_ENDED),
    (K.DIRECT_ANSWERED, K.DIRECT_ENDED),
)


@dataclass(frozen=True, slots=True)
class CallSummary:
    call_id: str
    started_at: datetime
    ended_at: datetime
    outcome: str
    a_number: str | None = None
    b_number: str | None = None
    queue: str | None = None
    agent: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    mos: float | None = None
    quality: dict[str, Any] | None = None
    ended_by: str | None = None  # "caller", "agent" or "server"


def _last(events: Sequence[CallEvent], kind: str) -> CallEvent | None:
    for e in reversed(events):
        if e.kind == kind:
            return e
    return None


def _first(events: Sequence[CallEvent], kind: str) -> CallEvent | None:
    return next((e for e in events if e.kind == kind), None)


def _seconds(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds(), 3)


def _outcome(events: Sequence[CallEvent], end: CallEvent) -> str:
    kinds = {e.kind for e in events}
    cause = (end.data or {}).get("cause")
    if cause == Outcome.SERVER_STOPPED:  # an anomaly to see, even for an answered call
        return Outcome.SERVER_STOPPED
    reached = K.CALLBACK_CONNECTED in kinds or K.CALLBACK_SMS_SENT in kinds
    if K.CALLBACK_ATTEMPT in kinds and not reached:
        return Outcome.CALLBACK  # an attempt that did not reach the customer
    if K.ANSWERED in kinds:
        return Outcome.ANSWERED
    if K.OUTBOUND_ANSWERED in kinds:
        return Outcome.OUTBOUND
    if K.DIRECT_ANSWERED in kinds:
        return Outcome.DIRECT
    if K.OUTBOUND_PLACED in kinds and cause != "cancelled":
        return Outcome.OUTBOUND_FAILED
    if cause in _CAUSES:
        return str(cause)
    if K.ABANDONED in kinds:
        return Outcome.ABANDONED
    for members, outcome in _SERVICE_OUTCOMES:
        if kinds & members:
            return outcome
    if K.OVERFLOW_ROUTED in kinds:  # left the ACD for a number of the plan
        return Outcome.OVERFLOWED
    return Outcome.IVR


def _placed_by(events: Sequence[CallEvent]) -> str | None:
    """The agent who placed an outbound call, answered or not."""
    placed = _first(events, K.OUTBOUND_PLACED)
    return placed.agent if placed is not None else None


def _segments(events: Sequence[CallEvent], end: CallEvent) -> tuple[float | None, float | None,
                                                                       str | None]:  # fmt: skip
    """Waits in queues, talk with agents (both summed over a transferred call's visits and
    agents) and the last agent who talked to the caller."""
    wait = talk = None
    waiting_since = talking_since = None
    agent = None
    for e in events:
        if e.kind == K.ARRIVED:
            waiting_since = e.at
        elif e.kind == K.ANSWERED:
            if waiting_since is not None:
                wait = (wait or 0.0) + _seconds(waiting_since, e.at)
                waiting_since = None
            talking_since, agent = e.at, e.agent
        elif e.kind == K.ENDED and talking_since is not None:
            talk = (talk or 0.0) + _seconds(talking_since, e.at)
            talking_since = None
        elif e.kind == K.TRANSFER_COMPLETED:
            if talking_since is not None:  # a direct transfer's target hands on again
                talk = (talk or 0.0) + _seconds(talking_since, e.at)
                talking_since = None
            to = (e.data or {}).get("to_agent")
            if to and (e.data or {}).get("target_kind") == "agent":
                talking_since, agent = e.at, str(to)
    if waiting_since is not None:
        wait = (wait or 0.0) + _seconds(waiting_since, end.at)
    if talking_since is not None:
        talk = (talk or 0.0) + _seconds(talking_since, end.at)
    return (
        None if wait is None else round(wait, 3),
        None if talk is None else round(talk, 3),
        agent,
    )


def summarize(events: Sequence[CallEvent]) -> CallSummary:
    """The summary of one finished call from its events, in the order they happened.

    A transferred call keeps one summary: its waits are summed over the queues it visited,
    its talk over the agents it talked to, and ``agent`` is the last of them (the reports
    attribute each agent's own share, docs/statistics.md)."""
    if not events:
        raise ValueError("summarize: a call without events")
    first, end = events[0], events[-1]
    wait, talk, agent = _segments(events, end)
    if talk is None:  # an outbound or a direct call: its own answered/ended pair
        for start_kind, end_kind in _OWN_TALK:
            own = _last(events, start_kind)
            if own is not None:
                ended = _last(events, end_kind)
                talk = _seconds(own.at, (ended or end).at)
                agent = agent or own.agent
                break
    if agent is None:
        agent = _placed_by(events)
    queue = next((e.queue for e in reversed(events) if e.queue), None)
    data = end.data or {}
    a_number = next((e.a_number for e in events if e.a_number), None)
    b_number = next((e.b_number for e in events if e.b_number), None)
    return CallSummary(
        call_id=first.call_id,
        started_at=first.at,
        ended_at=end.at,
        outcome=_outcome(events, end),
        a_number=a_number,
        b_number=b_number,
        queue=queue,
        agent=agent,
        wait_seconds=wait,
        talk_seconds=talk,
        mos=data.get("mos"),
        quality=data.get("quality"),
        ended_by=data.get("ended_by"),
    )


class SummaryFold:
    """Collects each live call's events; on its terminal event hands back its summary.

    The call-log writer runs every event it appends through one of these, so the summary
    row is written in the same transaction as the call's last event.
    """

    # Events that follow a call's end (the agent's wrap-up, a classification) belong to
    # the agent's time, not the call's summary: ended calls are remembered this long.
    REMEMBER_ENDED = 10_000

    def __init__(self) -> None:
        self._live: dict[str, list[CallEvent]] = {}
        self._ended: deque[str] = deque()
        self._ended_set: set[str] = set()

    def add(self, event: CallEvent) -> CallSummary | None:
        if event.call_id == AGENT_CALL_ID or event.call_id in self._ended_set:
            return None
        events = self._live.setdefault(event.call_id, [])
        events.append(event)
        if event.kind not in TERMINAL_KINDS:
            return None
        del self._live[event.call_id]
        self._ended.append(event.call_id)
        self._ended_set.add(event.call_id)
        if len(self._ended) > self.REMEMBER_ENDED:
            self._ended_set.discard(self._ended.popleft())
        return summarize(events)

    def add_all(self, events: Iterable[CallEvent]) -> list[CallSummary]:
        return [s for s in map(self.add, events) if s is not None]

    def live_calls(self) -> list[str]:
        """Calls with events but no terminal event yet."""
        return list(self._live)
