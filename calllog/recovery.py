"""Calls the log shows as live when the server starts: the process that carried them is
gone (a crash, a power cut, ``kill -9``). They are closed with what is known, never left
open: statistics must see every call end exactly once."""

from __future__ import annotations

from collections.abc import Sequence

from .event import CallEvent
from .kinds import EventKind, Outcome
from .summary import CallSummary, summarize


def close_interrupted(events: Sequence[CallEvent]) -> tuple[CallEvent, CallSummary]:
    """The hang-up event and summary for a call whose log stops at ``events[-1]``.

    The call ended at the latest when its last step was written; later than that nothing
    is known, so that is the end time given.
    """
    if not events:
        raise ValueError("close_interrupted: a call without events")
    last = events[-1]
    queue = next((e.queue for e in reversed(events) if e.queue), None)
    agent = next((e.agent for e in reversed(events) if e.kind == EventKind.ANSWERED), None)
    hangup = CallEvent(
        last.call_id,
        EventKind.HANGUP,
        at=last.at,
        queue=queue,
        agent=agent,
        a_number=next((e.a_number for e in events if e.a_number), None),
        b_number=next((e.b_number for e in events if e.b_number), None),
        data={
            "reason": "server stopped while the call was live",
            "cause": Outcome.SERVER_STOPPED,
            "ended_by": "server",
        },
    )
    return hangup, summarize([*events, hangup])
