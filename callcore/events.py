"""What the call core is told: SIP dialog events, results of its actions, ACD commands.

Each is a small frozen value naming the call by the core's key (``Invite`` creates it).
The executor turns socket and media happenings into these and feeds them with ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .target import Target


@dataclass(frozen=True, slots=True)
class Invite:
    """A new INVITE, already authenticated and its SDP parsed (``sdp_error`` if not)."""

    request_id: str
    sip_call_id: str
    a_number: str | None
    b_number: str
    target: Target | None
    language: str
    sdp_error: str | None = None


@dataclass(frozen=True, slots=True)
class LegReady:
    """The caller's media leg is open and its answer SDP made (or why not)."""

    key: str
    error: str | None = None
    status: int = 503  # the response for ``error``: 503 (no port), 488 (no common codec)


@dataclass(frozen=True, slots=True)
class AnswerSent:
    """Whether the 200 OK could be sent (False: the transaction was already gone)."""

    key: str
    ok: bool


@dataclass(frozen=True, slots=True)
class CallerAcked:
    key: str
    error: str | None = None  # a late offer whose answer in the ACK was unusable


@dataclass(frozen=True, slots=True)
class CallerGone:
    """The caller hung up (BYE), cancelled, or the dialog died."""

    key: str
    why: str  # "hangup", "cancelled", or the dialog's reason


@dataclass(frozen=True, slots=True)
class FlowFinished:
    """The IVR dialogue (ivr.FlowPlan) ended with this outcome."""

    key: str
    kind: str  # "queue", "voicemail", "service", "closed", "hangup" ...
    queue: str | None = None
    service: str | None = None
    priority: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceFinished:
    key: str


@dataclass(frozen=True, slots=True)
class DialogueFailed:
    """A flow or service dialogue raised: the call ends as an error."""

    key: str
    error: str


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    """The agent's device answered (2xx with a usable SDP)."""

    key: str
    agent: str


@dataclass(frozen=True, slots=True)
class AgentRinging:
    """The dialled device rings (a 180/183 came): an outbound call tells the agent's phone."""

    key: str
    agent: str


@dataclass(frozen=True, slots=True)
class AgentOfferFailed:
    """The agent's device could not be reached or refused; ``rejected`` is a decline
    (486/600/603), anything else a failure (not registered, 404, timeout ...)."""

    key: str
    agent: str
    reason: str
    rejected: bool = False
    status: int | None = None  # the device's final response, if it sent one


@dataclass(frozen=True, slots=True)
class AgentKeyed:
    """The agent's answer to the accept prompt: a digit, or None (no key in time)."""

    key: str
    agent: str
    digit: str | None


@dataclass(frozen=True, slots=True)
class AgentGone:
    """The agent's leg hung up (BYE or dialog death)."""

    key: str
    agent: str
    why: str


@dataclass(frozen=True, slots=True)
class MediaClosed:
    """The call's media is released; its figures go into the hang-up event."""

    key: str
    rtp: dict[str, Any]
    mos: float | None = None
    quality: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CallerKeyed:
    """The caller pressed a key while waiting in the queue."""

    key: str
    digit: str


@dataclass(frozen=True, slots=True)
class CallbackBooked:
    """The booking dialogue ended: the number to call back, or None (nothing booked)."""

    key: str
    number: str | None


@dataclass(frozen=True, slots=True)
class AgentBriefed:
    """The agent heard that this is a callback and the number."""

    key: str
    agent: str


@dataclass(frozen=True, slots=True)
class SmsResult:
    """The gateway took the message (``error`` None) or not."""

    key: str
    agent: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """A dialogue (flow step, service) reports a step of the call for the call log."""

    key: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlaceCall:
    """An agent's own phone (authenticated) sent an INVITE for a number not in the plan."""

    request_id: str
    sip_call_id: str
    agent: str
    dialled: str  # the request URI's user part, a queue prefix included
    queue: str | None = None  # chosen by a header (X-Vaxel-Queue), if the phone sent one
    sdp_error: str | None = None


@dataclass(frozen=True, slots=True)
class Dial:
    """Click-to-call: ring ``device`` of ``agent``, then call ``number`` and bridge."""

    call_id: str  # chosen by the executor (the API returns it)
    agent: str
    device: str | None  # where the agent is reached (None: not reachable)
    number: str
    queue: str | None = None


CallInput = (
    LegReady
    | AnswerSent
    | CallerAcked
    | CallerGone
    | FlowFinished
    | ServiceFinished
    | DialogueFailed
    | AgentAnswered
    | AgentRinging
    | AgentOfferFailed
    | AgentKeyed
    | AgentGone
    | MediaClosed
    | Note
    | CallerKeyed
    | CallbackBooked
    | AgentBriefed
    | SmsResult
)
