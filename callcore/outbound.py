"""Calls outside the queues, as paths of the call core: outbound calls from an agent's phone,
click-to-call through the API, and direct numbers that ring one agent.

The core (``core.py``) hands every event of a call whose ``kind`` is not "inbound" to the
handlers here; they use its helpers (``_log``, ``_end`` ...). The dialling policy
(allowed prefixes, emergency numbers, caller id per queue) is decided here too, so the
executor only carries it out. No I/O, no clock: ``now`` comes in with every event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from calllog import AGENT_CALL_ID, CallEvent, EventKind, Outcome

from . import actions as A
from . import events as E
from .state import CallState, Offer, OfferPhase, Phase
from .target import Target

if TYPE_CHECKING:
    from .core import CallCore

K = EventKind


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


CUSTOMER = "customer"  # the far end of an outbound call (as a callback's)
TEL = "tel:"


class CallKind(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"  # the agent's own phone dialled a number
    CLICK = "click-to-call"  # the API rang the agent first, then the number
    DIRECT = "direct"  # a direct number of the plan rang one agent


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Which numbers agents may call and with which caller id (``[outbound]`` and the
    queues' ``outbound_*`` settings)."""

    enabled: bool = False
    allowed_prefixes: tuple[str, ...] = ()  # empty: any number
    blocked_prefixes: tuple[str, ...] = ()  # checked first (premium rate, abroad ...)
    emergency_numbers: tuple[str, ...] = ("112",)
    emergency: str = "allow"  # "allow": always placed, whatever the prefixes; "refuse"
    caller_id: str | None = None  # the company's number
    queue_prefixes: Mapping[str, str] = field(default_factory=dict)  # "*1" -> queue
    queue_caller_ids: Mapping[str, str] = field(default_factory=dict)
    queue_wrap_up: Mapping[str, float] = field(default_factory=dict)  # outbound wrap-up
    agent_queues: Mapping[str, str] = field(default_factory=dict)  # agent's default queue
    ring_timeout: float = 60.0  # how long the customer's phone may ring
    agent_ring_timeout: float = 30.0  # click-to-call: how long the agent's device rings
    known_queues: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Placement:
    number: str
    queue: str | None
    caller_id: str | None
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str


def decide(
    policy: OutboundPolicy, agent: str, dialled: str, queue: str | None = None
) -> Placement | Refusal:
    """Where an agent's dialled string goes: the number, its queue and caller id, or why not.

    A queue is chosen by its dial prefix (``*1`` before the number), else by ``queue``
    (a header or the API's field), else the agent's default outbound queue.
    """
    number = dialled.strip()
    prefixed = None
    for prefix in sorted(policy.queue_prefixes, key=len, reverse=True):
        if prefix and number.startswith(prefix):
            prefixed, number = policy.queue_prefixes[prefix], number[len(prefix) :]
            break
    if queue is not None and queue not in policy.known_queues:
        return Refusal(404, f"Not Found: no queue {queue!r} for outbound calls")
    chosen = prefixed or queue or policy.agent_queues.get(agent)
    if not number or not (number.removeprefix("+").isdigit()):
        return Refusal(484, f"Address Incomplete: {dialled!r} is not a phone number")
    caller_id = policy.queue_caller_ids.get(chosen or "") or policy.caller_id
    if number in policy.emergency_numbers:
        if policy.emergency == "refuse":
            return Refusal(403, "Forbidden: emergency calls are not placed from here")
        return Placement(number, chosen, caller_id, emergency=True)
    if not policy.enabled:
        return Refusal(403, "Forbidden: outbound calls are not enabled")
    for prefix in policy.blocked_prefixes:
        if number.startswith(prefix):
            return Refusal(403, f"Forbidden: numbers starting {prefix} are blocked")
    if policy.allowed_prefixes and not any(number.startswith(p) for p in policy.allowed_prefixes):
        allowed = ", ".join(policy.allowed_prefixes)
        return Refusal(403, f"Forbidden: only numbers starting {allowed} may be called")
    return Placement(number, chosen, caller_id)


class AgentPresence(Protocol):
    """What the core asks the executor about an agent (the ACD and the registrar know)."""

    def devices(self, agent: str) -> tuple[str, ...]:
        """Every device that rings for the agent's direct number ("sip:1001", "tel:...")."""
        ...

    def available(self, agent: str) -> bool:
        """Not on a call or being offered one by the ACD."""
        ...


class NoPresence:
    def devices(self, agent: str) -> tuple[str, ...]:
        return (f"sip:{agent}",)

    def available(self, agent: str) -> bool:
        return True


@dataclass(eq=False, slots=True)
class OutLeg:
    """What a call outside the queues carries beside ``CallState``."""

    agent: str
    number: str  # the customer's number (outbound), or the caller's (direct)
    caller_id: str | None = None
    via: str = "phone"  # "phone", "api" (outbound); "direct"
    device: str | None = None  # click-to-call: the agent's device
    engaged: bool = False  # the ACD holds the agent busy for this call
    answered_at: float | None = None
    connected_leg: str | None = None  # direct: the device leg that answered
    after_ack: str | None = None  # direct: "voicemail" or "closed" once the caller ACKed
    failed: str | None = None  # why the far end was not reached
    ringing: bool = False  # the agent's phone was told the far end rings (180)


def _leg(call: CallState) -> OutLeg:
    leg = call.leg
    assert isinstance(leg, OutLeg)
    return leg


def _engage(call: CallState, leg: OutLeg, out: list[A.Action]) -> None:
    if not leg.engaged:
        leg.engaged = True
        out.append(A.AcdEngaged(leg.agent, call.key))


# ---------------------------------------------------------------------- placing calls


def place(core: CallCore, ev: E.PlaceCall, now: float) -> list[A.Action]:
    """The agent's phone dialled out: check the number, open the phone's media leg."""
    decision = decide(core.outbound, ev.agent, ev.dialled, ev.queue)
    if isinstance(decision, Refusal):
        return [
            A.Log(_refused_event(ev.sip_call_id, ev.agent, ev.dialled, decision, now)),
            A.Respond(ev.request_id, decision.status, decision.reason[:100]),
        ]
    if ev.sdp_error is not None:
        return [A.Respond(ev.request_id, 400, f"Bad SDP: {ev.sdp_error}"[:100])]
    call = CallState(
        key=core._new_key(ev.sip_call_id),
        request_id=ev.request_id,
        sip_call_id=ev.sip_call_id,
        a_number=decision.caller_id,
        b_number=decision.number,
        language=core.outbound_language,
        target=Target(queue=decision.queue),
        started_at=now,
        queue=decision.queue,
        agent=ev.agent,
        kind=CallKind.OUTBOUND,
        leg=OutLeg(ev.agent, decision.number, decision.caller_id),
    )
    core.calls[call.key] = call
    return [A.OpenCallerLeg(call.key)]


def dial(core: CallCore, ev: E.Dial, now: float) -> tuple[Refusal | None, list[A.Action]]:
    """Click-to-call: the agent's device first; the customer once the agent answered."""
    decision = decide(core.outbound, ev.agent, ev.number, ev.queue)
    if isinstance(decision, Refusal):
        return decision, [A.Log(_refused_event(ev.call_id, ev.agent, ev.number, decision, now))]
    if ev.device is None:
        return Refusal(409, f"agent {ev.agent!r} has no device to ring (not registered)"), []
    if ev.call_id in core.calls:
        return Refusal(409, f"call id {ev.call_id!r} is in use"), []
    call = CallState(
        key=ev.call_id,
        request_id="",
        sip_call_id=ev.call_id,
        a_number=decision.caller_id,
        b_number=decision.number,
        language=core.outbound_language,
        target=Target(queue=decision.queue),
        started_at=now,
        queue=decision.queue,
        agent=ev.agent,
        phase=Phase.BRIEFING,  # the agent's device rings; the customer waits for them
        caller_gone=True,  # no caller leg: the agent's and the customer's are both dialled
        kind=CallKind.CLICK,
        leg=OutLeg(ev.agent, decision.number, decision.caller_id, via="api", device=ev.device),
    )
    core.calls[call.key] = call
    out: list[A.Action] = []
    leg = _leg(call)
    core._log(call, K.OUTBOUND_PLACED, now, out, number=leg.number, caller_id=leg.caller_id,
              via="api", device=ev.device)  # fmt: skip
    _engage(call, leg, out)
    call.offers[ev.agent] = Offer(ev.agent, ev.device)
    # The agent's SIP phone shows the number about to be called; a phone number reached
    # through the trunk gets the company's (a carrier refuses numbers it cannot assert).
    shown = leg.caller_id if ev.device.startswith(TEL) else leg.number
    out.append(A.RingAgent(call.key, ev.agent, ev.device, caller_id=shown))
    core._arm(call, now + core.outbound.agent_ring_timeout)
    return None, out


def _refused_event(call_id: str, agent: str, number: str, why: Refusal, now: float) -> CallEvent:
    # The agent's event, not a call's: a refused dial never became a call (no summary, no
    # "live" call for the recovery at the next start to close).
    data = {"number": number, "status": why.status, "reason": why.reason, "sip_call_id": call_id}
    return CallEvent(AGENT_CALL_ID, K.OUTBOUND_REFUSED, at=_at(now), agent=agent,
                     b_number=number, data=data)  # fmt: skip


def _ring_customer(core: CallCore, call: CallState, now: float, out: list[A.Action]) -> None:
    leg = _leg(call)
    device = f"{TEL}{leg.number}"
    call.offers[CUSTOMER] = Offer(CUSTOMER, device)
    call.phase = Phase.DIALING
    out.append(A.RingAgent(call.key, CUSTOMER, device, caller_id=leg.caller_id))
    core._arm(call, now + core.outbound.ring_timeout)


# ---------------------------------------------------------------------- events


def _leg_ready(core: CallCore, call: CallState, ev: E.LegReady, now: float,
               out: list[A.Action]) -> None:  # fmt: skip
    if call.kind == CallKind.DIRECT:
        _direct_leg_ready(core, call, ev, now, out)
        return
    leg = _leg(call)
    if ev.error is not None:
        out.append(A.Respond(call.request_id, ev.status, ev.error[:100]))
        call.caller_gone = True
        core._end(call, now, out, cause=Outcome.REJECTED, by="server", reason=ev.error)
        return
    core._log(call, K.OUTBOUND_PLACED, now, out, number=leg.number, caller_id=leg.caller_id,
              via="phone")  # fmt: skip
    _engage(call, leg, out)
    _ring_customer(core, call, now, out)


def _answer_sent(core: CallCore, call: CallState, ev: E.AnswerSent, now: float,
                 out: list[A.Action]) -> None:  # fmt: skip
    if not ev.ok:  # the caller (or the agent's phone) cancelled meanwhile
        call.caller_gone = True
        core._end(call, now, out, cause=Outcome.CANCELLED, by="caller", reason="cancelled")
        return
    if call.kind == CallKind.DIRECT and _leg(call).connected_leg is None:
        call.phase = Phase.ANSWERED  # voicemail or the closed prompt follows the ACK
        core._arm(call, now + core.ack_timeout)


def _acked(core: CallCore, call: CallState, ev: E.CallerAcked, now: float,
           out: list[A.Action]) -> None:  # fmt: skip
    if ev.error is not None:
        core._end(call, now, out, cause=Outcome.ERROR, by="server", reason=ev.error)
        return
    if call.kind != CallKind.DIRECT or call.phase != Phase.ANSWERED:
        return  # an outbound call is bridged on the answer: the ACK changes nothing
    core._arm(call, None)
    leg = _leg(call)
    if leg.after_ack == "closed":
        core._service(call, "direct-closed", None, out, agent=leg.agent)
    elif leg.after_ack == "voicemail":
        core._service(call, "voicemail", None, out, agent=leg.agent)
    else:  # no voicemail for this number: a goodbye
        core._service(call, "goodbye", None, out)


def _caller_gone(core: CallCore, call: CallState, ev: E.CallerGone, now: float,
                 out: list[A.Action]) -> None:  # fmt: skip
    call.caller_gone = True
    before = call.phase in (Phase.SETUP, Phase.RINGING, Phase.DIALING, Phase.ANSWERED)
    cause = Outcome.CANCELLED if before and ev.why == "cancelled" else None
    if call.kind == CallKind.DIRECT and _leg(call).connected_leg is None:
        if call.phase == Phase.DIALING:
            core._log(call, K.DIRECT_MISSED, now, out, agent=_leg(call).agent,
                      why="caller hung up while ringing")  # fmt: skip
    elif call.kind == CallKind.OUTBOUND and call.phase == Phase.DIALING:
        _leg(call).failed = "cancelled by the agent"
        core._log(call, K.OUTBOUND_FAILED, now, out, reason="cancelled by the agent")
    by = "agent" if call.kind == CallKind.OUTBOUND else "caller"
    core._end(call, now, out, cause=cause, by=by, reason=f"{by} {ev.why}")


def _agent_answered(core: CallCore, call: CallState, ev: E.AgentAnswered, now: float,
                    out: list[A.Action]) -> None:  # fmt: skip
    offer = call.offers.get(ev.agent)
    if offer is None or offer.phase != OfferPhase.RINGING:
        out.append(A.DropAgent(call.key, ev.agent))
        return
    offer.phase = OfferPhase.CONNECTED
    leg = _leg(call)
    if call.kind == CallKind.DIRECT:
        _direct_answered(core, call, ev.agent, now, out)
        return
    if call.kind == CallKind.CLICK and ev.agent == leg.agent and call.phase == Phase.BRIEFING:
        core._arm(call, None)
        _ring_customer(core, call, now, out)
        return
    if ev.agent != CUSTOMER or call.phase != Phase.DIALING:
        out.append(A.DropAgent(call.key, ev.agent))
        return
    core._arm(call, None)
    call.phase = Phase.CONNECTED
    call.connected_at = leg.answered_at = now
    core._log(call, K.OUTBOUND_ANSWERED, now, out, number=leg.number)
    if call.kind == CallKind.OUTBOUND:
        out.append(A.Answer(call.key))  # the agent's phone gets its 200 OK now
        out.append(A.Bridge(call.key, CUSTOMER))
    else:
        out.append(A.BridgeAgents(call.key, leg.agent, CUSTOMER))


def _agent_ringing(core: CallCore, call: CallState, ev: E.AgentRinging, now: float,
                   out: list[A.Action]) -> None:  # fmt: skip
    """The customer's phone rings: the agent's phone plays its ringing tone (180)."""
    leg = _leg(call)
    relay = call.kind == CallKind.OUTBOUND and ev.agent == CUSTOMER and call.phase == Phase.DIALING
    if relay and not leg.ringing and not call.caller_gone:
        leg.ringing = True
        out.append(A.Respond(call.request_id, 180, "Ringing"))


def _agent_failed(core: CallCore, call: CallState, ev: E.AgentOfferFailed, now: float,
                  out: list[A.Action]) -> None:  # fmt: skip
    offer = call.offers.pop(ev.agent, None)
    if offer is None:
        return
    out.append(A.DropAgent(call.key, ev.agent))
    if call.kind == CallKind.DIRECT:
        if not any(o.phase == OfferPhase.RINGING for o in call.offers.values()):
            why = "busy" if ev.rejected else f"not reached: {ev.reason}"
            _direct_missed(core, call, now, out, why)
        return
    who = "the customer" if ev.agent == CUSTOMER else "the agent's device"
    _failed(core, call, now, out, f"{who}: {ev.reason}", ev.status)


def _failed(core: CallCore, call: CallState, now: float, out: list[A.Action], why: str,
            status: int | None) -> None:  # fmt: skip
    """The far end was not reached: tell the agent's phone why, end the call."""
    _leg(call).failed = why
    core._log(call, K.OUTBOUND_FAILED, now, out, reason=why, status=status)
    if call.kind == CallKind.OUTBOUND and not call.caller_gone:
        # Relay what the network said (486 busy, 404 ...), else "no answer".
        code = status if status is not None and 400 <= status < 700 else 480
        out.append(A.Respond(call.request_id, code, why[:100]))
        call.caller_gone = True
    core._end(call, now, out, by="server", reason=why)


def _agent_gone(core: CallCore, call: CallState, ev: E.AgentGone, now: float,
                out: list[A.Action]) -> None:  # fmt: skip
    leg = _leg(call)
    if call.kind == CallKind.DIRECT:
        if ev.agent == leg.connected_leg:
            core._end(call, now, out, by="agent", reason=f"agent {ev.why}")
        elif call.offers.pop(ev.agent, None) is not None:
            out.append(A.DropAgent(call.key, ev.agent))
        return
    if ev.agent == CUSTOMER:
        if call.phase != Phase.CONNECTED:
            _failed(core, call, now, out, f"the customer {ev.why} before the answer", None)
            return
        core._end(call, now, out, by="customer", reason=f"customer {ev.why}")
        return
    if call.phase == Phase.DIALING:
        leg.failed = "the agent hung up before the customer answered"
        core._log(call, K.OUTBOUND_FAILED, now, out, reason=leg.failed)
    core._end(call, now, out, by="agent", reason=f"agent {ev.why}")


def _service_finished(core: CallCore, call: CallState, ev: E.ServiceFinished, now: float,
                      out: list[A.Action]) -> None:  # fmt: skip
    if call.phase == Phase.SERVICE:
        core._finish_dialogue(call, now, "service ended")


def expired(core: CallCore, call: CallState, now: float, out: list[A.Action]) -> bool:
    """A deadline of one of these calls passed; False: the core's own (ACK, grace)."""
    if call.kind == CallKind.DIRECT and call.phase == Phase.DIALING:
        _direct_missed(core, call, now, out, "no answer")
        return True
    if call.phase == Phase.BRIEFING and call.kind == CallKind.CLICK:
        _failed(core, call, now, out, "the agent's device did not answer", None)
        return True
    if call.phase == Phase.DIALING:
        _failed(core, call, now, out, "the customer did not answer", None)
        return True
    return False


def ending(core: CallCore, call: CallState, now: float, out: list[A.Action], by: str) -> None:
    """Whatever ends one of these calls: its last own event, and the agent is released."""
    leg = _leg(call)
    if leg.answered_at is not None:
        kind = K.DIRECT_ENDED if call.kind == CallKind.DIRECT else K.OUTBOUND_ENDED
        core._log(call, kind, now, out, agent=leg.agent, talk=round(now - leg.answered_at, 3),
                  ended_by=by)  # fmt: skip
    elif call.kind != CallKind.DIRECT and leg.failed is None:
        core._log(call, K.OUTBOUND_FAILED, now, out, reason=f"ended before the answer ({by})")
    if leg.engaged:
        leg.engaged = False
        wrap = 0.0
        if leg.answered_at is not None and call.kind != CallKind.DIRECT:
            wrap = core.outbound.queue_wrap_up.get(call.queue or "", 0.0)
        out.append(A.AcdReleased(leg.agent, call.key, call.queue, wrap))


# ---------------------------------------------------------------------- direct numbers


def _direct_leg_ready(core: CallCore, call: CallState, ev: E.LegReady, now: float,
                      out: list[A.Action]) -> None:  # fmt: skip
    if ev.error is not None:
        out.append(A.Respond(call.request_id, ev.status, ev.error[:100]))
        call.caller_gone = True
        core._end(call, now, out, cause=Outcome.REJECTED, by="server", reason=ev.error)
        return
    t = call.target
    assert t.direct is not None
    leg = _leg(call)
    core._log(call, K.INCOMING, now, out, direct=t.direct)
    if t.calendar is not None and not core.calendar_open(t.calendar, now):
        core._log(call, K.DIRECT_MISSED, now, out, agent=leg.agent, why="closed")
        leg.after_ack = "closed"
        out.append(A.Answer(call.key))
        return
    free = core.presence.available(leg.agent) and not _on_own_call(core, leg.agent, call.key)
    devices = core.presence.devices(leg.agent) if free else ()
    if not devices:
        _direct_missed(core, call, now, out, "no device" if free else "busy")
        return
    # The caller hears the ringing tone of their own phone until the agent answers (no
    # 200 OK before): nothing is charged for an unanswered direct call.
    out.append(A.Respond(call.request_id, 180, "Ringing"))
    core._log(call, K.DIRECT_OFFERED, now, out, agent=leg.agent, devices=list(devices))
    _engage(call, leg, out)
    call.phase = Phase.DIALING
    for i, device in enumerate(devices):
        name = leg.agent if i == 0 else f"{leg.agent}/{i + 1}"
        call.offers[name] = Offer(name, device)
        out.append(A.RingAgent(call.key, name, device))
    core._arm(call, now + call.target.ring_timeout)


def _on_own_call(core: CallCore, agent: str, but: str) -> bool:
    """Whether the agent is on another call outside the queues (the ACD does not see
    a logged-out agent's outbound or direct calls)."""
    return any(
        c.key != but and isinstance(c.leg, OutLeg) and c.leg.agent == agent and c.leg.engaged
        for c in core.calls.values()
    )


def _direct_answered(core: CallCore, call: CallState, name: str, now: float,
                     out: list[A.Action]) -> None:  # fmt: skip
    leg = _leg(call)
    if call.phase != Phase.DIALING:
        out.append(A.DropAgent(call.key, name))
        return
    core._arm(call, None)
    for other in [o for o in call.offers if o != name]:  # all their devices rang: one wins
        del call.offers[other]
        out.append(A.DropAgent(call.key, other))
    leg.connected_leg, leg.answered_at = name, now
    call.phase = Phase.CONNECTED
    call.connected_at = now
    core._log(call, K.DIRECT_ANSWERED, now, out, agent=leg.agent, device=name)
    out.append(A.Answer(call.key))
    out.append(A.Bridge(call.key, name))


def _direct_missed(core: CallCore, call: CallState, now: float, out: list[A.Action],
                   why: str) -> None:  # fmt: skip
    """Nobody answered (busy, no answer, no device): voicemail, or a goodbye."""
    leg = _leg(call)
    core._arm(call, None)
    for name in list(call.offers):
        out.append(A.DropAgent(call.key, name))
    call.offers.clear()
    core._log(call, K.DIRECT_MISSED, now, out, agent=leg.agent, why=why)
    if leg.engaged:
        leg.engaged = False
        out.append(A.AcdReleased(leg.agent, call.key))
    leg.after_ack = "voicemail" if call.target.voicemail else None
    call.phase = Phase.SETUP
    out.append(A.Answer(call.key))


def direct_call(call: CallState) -> None:
    """Mark a new inbound call to a direct number as one of this module's."""
    assert call.target.direct is not None
    call.kind = CallKind.DIRECT
    call.leg = OutLeg(call.target.direct, call.a_number or "", via="direct")
    call.agent = call.target.direct


def _note(core: CallCore, call: CallState, ev: E.Note, now: float, out: list[A.Action]) -> None:
    core._log(call, ev.kind, now, out, **ev.data)


def _dialogue_failed(core: CallCore, call: CallState, ev: E.DialogueFailed, now: float,
                     out: list[A.Action]) -> None:  # fmt: skip
    core._end(call, now, out, cause=Outcome.ERROR, by="server", reason=ev.error)


def _ignore(core: CallCore, call: CallState, ev: Any, now: float, out: list[A.Action]) -> None:
    return


_Handler = Callable[["CallCore", CallState, Any, float, list[A.Action]], None]
HANDLERS: dict[type, _Handler] = {
    E.LegReady: _leg_ready,
    E.AnswerSent: _answer_sent,
    E.CallerAcked: _acked,
    E.CallerGone: _caller_gone,
    E.AgentAnswered: _agent_answered,
    E.AgentRinging: _agent_ringing,
    E.AgentOfferFailed: _agent_failed,
    E.AgentGone: _agent_gone,
    E.ServiceFinished: _service_finished,
    E.DialogueFailed: _dialogue_failed,
    E.Note: _note,
    E.FlowFinished: _ignore,
    E.AgentKeyed: _ignore,
    E.CallerKeyed: _ignore,
    E.CallbackBooked: _ignore,
    E.AgentBriefed: _ignore,
    E.SmsResult: _ignore,
}
