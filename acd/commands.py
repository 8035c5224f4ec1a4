"""Commands the ACD returns for the composition root to carry out.

The ACD never rings a device or writes a log itself: every method returns a
list of these small frozen values, in the order they should be performed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acd.model import AgentState, Call


@dataclass(frozen=True, slots=True)
class OfferCall:
    """Ring ``device`` of ``agent`` with ``call``; the ACD times the ring out itself."""

    call: Call
    agent: str
    device: str
    ring_timeout: float


@dataclass(frozen=True, slots=True)
class CancelOffer:
    """Stop ringing ``agent`` for ``call`` (timeout, another agent won, caller left)."""

    call: Call
    agent: str


@dataclass(frozen=True, slots=True)
class Overflow:
    """``call`` moved on from its queue because of ``reason``.

    ``internal`` is true when ``to_queue`` is an ACD queue and the ACD has
    already queued the call there (the root only switches prompts/music);
    false when the target is elsewhere in the number plan and the call has
    left the ACD.
    """

    call: Call
    to_queue: str
    reason: str
    internal: bool = True


@dataclass(frozen=True, slots=True)
class AnnouncePosition:
    """Tell a waiting caller their position and estimated wait (None: unknown)."""

    call: Call
    position: int
    estimated_wait: float | None


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    """The ACD logged ``agent`` out; tell the agent ``reason``."""

    agent: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent state transition, stamped with the time it happened (S4)."""

    agent: str
    old: AgentState
    new: AgentState
    reason: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One entry for the call log (samtalslogg), from which statistics come (S12).

    Kinds: arrived, queued, offered, no_answer, rejected, offer_failed,
    answered, offer_cancelled, late_answer, overflowed, overflow_skipped,
    abandoned, ended, wrap_up_started, classified, classification_missing,
    wrap_up_ended, login, logout, pause, ready.
    """

    kind: str
    call_id: str | None
    queue: str | None
    agent: str | None
    data: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0


Command = (
    OfferCall
    | CancelOffer
    | Overflow
    | AnnouncePosition
    | AgentLoggedOut
    | AgentStateChanged
    | LogEvent
)
