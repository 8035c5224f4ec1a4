"""One call's state as the call core keeps it (read by live views, never written there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .target import Target

if TYPE_CHECKING:
    from .transfer import Transfer


class Phase(StrEnum):
    SETUP = "setup"  # INVITE received, the caller's leg being opened
    RINGING = "ringing"  # 180 sent, answering after the number's ring time
    ANSWERED = "answered"  # 200 sent, waiting for the ACK
    FLOW = "flow"  # the IVR dialogue runs
    SERVICE = "service"  # a service dialogue runs
    QUEUED = "queued"  # in the ACD: waiting or an agent's phone rings
    BOOKING = "booking"  # still in the queue; the caller books a callback meanwhile
    BRIEFING = "briefing"  # a callback: the agent hears it is a callback, and the number
    DIALING = "dialing"  # a callback: the customer's phone rings, the agent waits
    CONNECTED = "connected"  # bridged with an agent
    ENDING = "ending"  # Vaxel hangs up after its last prompt, once the phone played it
    RELEASING = "releasing"  # hung up; waiting for the media figures
    ENDED = "ended"


class OfferPhase(StrEnum):
    RINGING = "ringing"
    ACCEPTING = "accepting"  # answered; the agent hears the accept prompt
    CLAIMED = "claimed"  # accepted; the ACD is asked whether the call is still theirs
    CONNECTED = "connected"


@dataclass(eq=False, slots=True)
class Offer:
    agent: str
    device: str
    phase: OfferPhase = OfferPhase.RINGING


@dataclass(frozen=True, slots=True)
class Callback:
    """What a callback attempt carries: whom to call, and the place it keeps."""

    origin: str  # the key of the call that booked it
    number: str
    attempt: int  # 1, 2, ...
    arrived_at: float  # the original call's arrival: the place in the queue
    priority: int
    restarts: int = 0  # an attempt taken up again after a restart gets a fresh call id


@dataclass(frozen=True, slots=True)
class PendingCallback:
    """What must survive a restart: the next attempt, now (``next_at`` None) or later."""

    callback: Callback
    queue: str
    b_number: str
    language: str
    next_at: float | None = None


@dataclass(eq=False, slots=True)
class CallState:
    key: str  # unique per call: the SIP Call-ID, suffixed if that was used before
    request_id: str
    sip_call_id: str
    a_number: str | None
    b_number: str
    language: str
    target: Target
    started_at: float
    queue: str | None = None
    phase: Phase = Phase.SETUP
    deadline: float | None = None
    enqueued_at: float | None = None
    connected_at: float | None = None
    agent: str | None = None  # the agent the caller is bridged with
    offers: dict[str, Offer] = field(default_factory=dict)
    in_acd: bool = False
    caller_gone: bool = False  # nothing to hang up on the caller's side any more
    callback: Callback | None = None  # set for a callback attempt (no caller leg)
    priority: int = 0
    # "inbound", or one of callcore.outbound's kinds (outbound, click-to-call, direct),
    # whose path that module decides; ``leg`` holds its details (callcore.outbound.OutLeg).
    kind: str = "inbound"
    leg: Any = None
    # Transfers (callcore.transfer): the caller on hold, a transfer or consult under way,
    # and the first arrival in a queue (a transferred caller keeps their place by it).
    held: bool = False
    transfer: Transfer | None = None
    first_arrival: float | None = None
    engaged: str | None = None  # an agent the ACD holds busy for this call (direct transfer)
    # Set once the call ends: how, by whom and why (the hang-up event's data).
    cause: str | None = None
    ended_by: str | None = None
    reason: str | None = None
