"""What the call core asks its executor to do, in order.

The executor carries each out and feeds results back as events (``callcore.events``);
ACD calls are applied to the ACD and its commands handed back to ``CallCore.on_acd``.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd import Call as AcdCall
from calllog import CallEvent

from .state import PendingCallback


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer the caller's INVITE transaction (``with_sdp``: our answer or late offer)."""

    request_id: str
    status: int
    reason: str | None = None
    with_sdp: bool = False
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class OpenCallerLeg:
    """Open the caller's RTP leg and negotiate its SDP; reply with ``LegReady``."""

    key: str


@dataclass(frozen=True, slots=True)
class Answer:
    """Send the 200 OK with the SDP prepared by ``OpenCallerLeg``; reply ``AnswerSent``."""

    key: str


@dataclass(frozen=True, slots=True)
class RunFlow:
    """Run the IVR dialogue for ``number`` (``ivr.FlowPlan``); reply ``FlowFinished``."""

    key: str
    number: str
    queue: str


@dataclass(frozen=True, slots=True)
class RunService:
    """Run a service dialogue (remote login, prompt recording, voicemail, goodbye);
    reply ``ServiceFinished``."""

    key: str
    service: str
    queue: str | None = None
    agent: str | None = None  # voicemail of an agent's mailbox


@dataclass(frozen=True, slots=True)
class PlayQueueMusic:
    """The caller waits: the queue message once (if any), then the music in a loop;
    ``listen``: report the keys the caller presses meanwhile (``CallerKeyed``)."""

    key: str
    message: str | None
    music: str
    listen: bool = False


@dataclass(frozen=True, slots=True)
class StopQueueMusic:
    key: str


@dataclass(frozen=True, slots=True)
class Announce:
    """Interrupt the music with position and estimated wait, then resume it."""

    key: str
    position: int
    estimated_wait: float | None
    offer_callback: bool = False  # the callback offer follows the announcement


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Open a leg for the agent and INVITE ``device`` with the caller's number; reply
    ``AgentAnswered`` or ``AgentOfferFailed``."""

    key: str
    agent: str
    device: str
    caller_id: str | None = None  # the From to show (default: the caller's number)


@dataclass(frozen=True, slots=True)
class PromptAgent:
    """Play the accept prompt on the agent's leg and wait for one key; reply ``AgentKeyed``."""

    key: str
    agent: str
    prompt: str
    timeout: float


@dataclass(frozen=True, slots=True)
class DropAgent:
    """Stop ringing (CANCEL) or hang up (BYE) the agent's leg and release it.

    With ``classify`` (the caller hung up on an agent reached on a phone number, whose
    queue classifies calls) the agent is first asked for the code by keypad: the key is
    the code's position in ``classify``; then the leg is hung up."""

    key: str
    agent: str
    classify: tuple[str, ...] = ()
    classify_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Bridge:
    """Connect the caller's leg with the agent's both ways."""

    key: str
    agent: str


@dataclass(frozen=True, slots=True)
class BriefAgent:
    """Play ``prompts`` and then ``digits`` one by one on the agent's leg; reply
    ``AgentBriefed``."""

    key: str
    agent: str
    prompts: tuple[str, ...]
    digits: str


@dataclass(frozen=True, slots=True)
class BridgeAgents:
    """Connect two dialled legs of the call (a callback's agent and customer)."""

    key: str
    a: str
    b: str


@dataclass(frozen=True, slots=True)
class StopDialogue:
    """End the running dialogue (the booking, when an agent answers meanwhile)."""

    key: str


@dataclass(frozen=True, slots=True)
class Unbridge:
    """Disconnect the caller's leg from the agent's (the caller stays on the line)."""

    key: str


@dataclass(frozen=True, slots=True)
class HangUpCaller:
    """BYE the caller's dialog (or 480 to an INVITE not yet answered)."""

    key: str


@dataclass(frozen=True, slots=True)
class ReleaseMedia:
    """Stop the call's media and quality watch; reply ``MediaClosed`` with its figures."""

    key: str


@dataclass(frozen=True, slots=True)
class Forget:
    """The call is over: drop everything the executor keeps for it."""

    key: str


@dataclass(frozen=True, slots=True)
class SendSms:
    """Text ``to``; reply ``SmsResult``."""

    key: str
    agent: str
    to: str
    text: str


@dataclass(frozen=True, slots=True)
class SaveCallback:
    """Store a pending callback (before anything else happens to it)."""

    pending: PendingCallback


@dataclass(frozen=True, slots=True)
class DropCallback:
    """The callback is done (reached or failed): forget the stored one."""

    origin: str


@dataclass(frozen=True, slots=True)
class Log:
    """Append this event to the call log (the one writer)."""

    event: CallEvent


@dataclass(frozen=True, slots=True)
class AcdArrived:
    call: AcdCall
    again: bool = False  # a transferred call enters a queue again under its own id


@dataclass(frozen=True, slots=True)
class AcdWithdrawn:
    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AcdAnswered:
    call_id: str
    agent: str


@dataclass(frozen=True, slots=True)
class AcdOfferFailed:
    call_id: str
    agent: str
    reason: str
    rejected: bool = False  # a decline (counts as unanswered), not a failure


@dataclass(frozen=True, slots=True)
class AcdAbandoned:
    call_id: str


@dataclass(frozen=True, slots=True)
class AcdEnded:
    call_id: str
    reason: str  # "caller hung up", "agent hung up", "server shutdown"


@dataclass(frozen=True, slots=True)
class AcdEngaged:
    """The agent is on a call outside the queues (outbound, direct): busy for the ACD."""

    agent: str
    call_id: str
    # A caller handed straight to the agent (a transfer): refused unless the agent is
    # ready (an outbound or direct call makes a paused or wrapping-up agent busy too).
    only_ready: bool = False


@dataclass(frozen=True, slots=True)
class AcdReleased:
    """That call ended: the agent is free, after ``wrap_up`` seconds of ``queue``'s."""

    agent: str
    call_id: str
    queue: str | None = None
    wrap_up: float = 0.0


AcdAction = (
    AcdArrived
    | AcdAnswered
    | AcdOfferFailed
    | AcdAbandoned
    | AcdEnded
    | AcdWithdrawn
    | AcdEngaged
    | AcdReleased
)


# ---- transfers (callcore.transfer)


@dataclass(frozen=True, slots=True)
class Notify:
    """Report a REFER's progress to the agent's phone (NOTIFY, message/sipfrag)."""

    key: str
    agent: str
    status: int
    reason: str
    final: bool


@dataclass(frozen=True, slots=True)
class AnswerConsult:
    """Answer the agent phone's consult INVITE (200 with SDP): the consulted party is on."""

    key: str


@dataclass(frozen=True, slots=True)
class RejectConsult:
    """Refuse the agent phone's consult INVITE (``status``) or hang it up if answered."""

    key: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class HoldParty:
    """Play hold music to a leg of the call (``party``), not the caller."""

    key: str
    party: str
    music: str


@dataclass(frozen=True, slots=True)
class UnholdParty:
    key: str
    party: str


TransferAction = Notify | AnswerConsult | RejectConsult | HoldParty | UnholdParty

Action = (
    Respond
    | OpenCallerLeg
    | Answer
    | RunFlow
    | RunService
    | PlayQueueMusic
    | StopQueueMusic
    | Announce
    | RingAgent
    | PromptAgent
    | DropAgent
    | Bridge
    | BriefAgent
    | BridgeAgents
    | StopDialogue
    | Unbridge
    | HangUpCaller
    | ReleaseMedia
    | Forget
    | Log
    | SendSms
    | SaveCallback
    | DropCallback
    | TransferAction
    | AcdAction
)
