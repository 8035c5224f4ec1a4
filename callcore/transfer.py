"""Transfers, consults and hold (SPEC S13; seed 003: "koppla" blind, "avisera" attended).

An agent connected to a caller may put them on hold, pass them on blind (the agent steps
out before the target answers) or consult first (the caller on hold while the agent
talks to the target, toggling between the two) and then complete or cancel. The same
request comes from the agent's phone (REFER, REFER with Replaces, a hold re-INVITE, a
second INVITE while on a call) or from the API; ``CallCore.control`` decides both.

The transferring agent stays the call's agent in the ACD until the transfer succeeds: a
failure (busy, no answer, 4xx/5xx) brings the caller back to them, re-ringing their phone
if it has hung up meanwhile, and if even that fails the caller goes back to the queue in
their old place. Nobody is dropped by a failed transfer.

Legs (``RingAgent`` names): ``transfer`` for a blind target, ``consult`` for the party the
agent consults, ``consult-phone`` for the agent's own second dialog when their phone
placed the consult call. Pure: imports nothing of ``vaxel/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from acd import Call as AcdCall
from calllog import EventKind

from . import actions as A
from .state import CallState, Offer, OfferPhase, Phase
from .target import Target

if TYPE_CHECKING:
    from .core import CallCore

K = EventKind
TRANSFER_LEG = "transfer"
CONSULT_LEG = "consult"
PHONE_LEG = "consult-phone"  # the agent's second dialog (their phone dialled the consult)
TEL = "tel:"
# Some phones hang up on a failed REFER (baresip 1.0 does): a hang-up this soon after the
# caller came back rings the agent's phone again instead of ending the call.
RETURN_GRACE = 3.0


class TargetKind(StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    NUMBER = "number"  # external, through the trunk
    SERVICE = "service"  # voicemail and the other services of the plan


@dataclass(frozen=True, slots=True)
class TransferTarget:
    """Where a transfer or consult goes, resolved from what the agent dialled."""

    kind: TargetKind
    dialled: str
    queue: str | None = None  # QUEUE, or the service's queue
    agent: str | None = None  # AGENT: whom, and the mailbox owner of a SERVICE
    service: str | None = None
    device: str | None = None  # AGENT: the device they are logged in on; NUMBER: tel:...


@dataclass(frozen=True, slots=True)
class TransferOptions:
    """The ``[transfers]`` settings the core decides with."""

    ring_timeout: float = 30.0  # a blind or consult target rings this long
    queue_priority: int = 0  # added to a caller transferred into a queue
    external: bool = True  # external numbers allowed (through the trunk)
    hold_music: str = "hold-music"


def resolve_target(
    dialled: str,
    *,
    route: Callable[[str], Target | None],
    agent_device: Callable[[str], str | None],
    is_agent: Callable[[str], bool],
    external: bool,
    agent_busy: Callable[[str], str | None] = lambda agent: None,
) -> TransferTarget | str:
    """The target ``dialled`` names (a plan number, an agent id, an external number),
    or why there is none (the reason goes to the agent and the call log)."""
    dialled = dialled.strip()
    if not dialled:
        return "no target given"
    routed = route(dialled)
    if routed is not None and routed.service is not None:
        return TransferTarget(TargetKind.SERVICE, dialled, queue=routed.queue,
                              agent=routed.agent, service=routed.service)  # fmt: skip
    if routed is not None and routed.queue is not None:
        return TransferTarget(TargetKind.QUEUE, dialled, queue=routed.queue)
    if is_agent(dialled):
        device = agent_device(dialled)
        if device is None:
            return f"agent {dialled} is not logged in"
        busy = agent_busy(dialled)
        if busy is not None:
            return f"agent {dialled} is {busy}"
        return TransferTarget(TargetKind.AGENT, dialled, agent=dialled, device=device)
    number = dialled.removeprefix("+")
    if number.isdigit() and len(number) >= 3:
        if not external:
            return f"external numbers are not allowed ({dialled})"
        return TransferTarget(TargetKind.NUMBER, dialled, device=f"{TEL}{dialled}")
    return f"no number {dialled!r} in the number plan, no such agent"


class Via(StrEnum):
    API = "api"
    REFER = "refer"  # REFER from the agent's phone: progress goes back as NOTIFY sipfrag
    PHONE = "phone"  # the phone's own hold re-INVITE, or its second INVITE (a consult)


@dataclass(frozen=True, slots=True)
class AgentControl:
    """An agent's request on their call: hold, resume, transfer (blind), consult, toggle,
    complete (attended), cancel_consult."""

    key: str
    agent: str
    op: str
    target: str | None = None
    via: Via = Via.API


@dataclass(frozen=True, slots=True)
class ControlResult:
    """The answer to an ``AgentControl``: HTTP-like status (2xx accepted) and why."""

    status: int
    reason: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


OPS = ("hold", "resume", "transfer", "consult", "toggle", "complete", "cancel_consult")


class XPhase(StrEnum):
    RINGING = "ringing"  # blind: the target rings; the caller hears hold music
    RETURNING = "returning"  # failed; the transferring agent's phone is rung again
    CONSULT_RINGING = "consult_ringing"
    CONSULTING = "consulting"  # the consulted party answered
    RETURNED = "returned"  # back with the agent after a failure; their phone may drop it


@dataclass(eq=False, slots=True)
class Transfer:
    """A transfer or consult under way on a call."""

    phase: XPhase
    agent: str  # the agent passing the caller on
    target: TransferTarget
    via: Via
    refer: bool = False  # progress is NOTIFYed to the agent's phone
    leg: str = TRANSFER_LEG  # the target's leg (TRANSFER_LEG, or CONSULT_LEG if consulted)
    agent_leg: str = ""  # the agent's leg that talks to the consulted party
    talking_to: str = CONSULT_LEG  # during a consult: CONSULT_LEG or "caller"
    agent_device: str | None = None  # to ring the agent again after a failure
    started_at: float = 0.0


_STATUS = {"busy": (486, "Busy Here"), "timeout": (408, "Request Timeout")}


def _sip_status(reason: str) -> tuple[int, str]:
    """The SIP status a failed leg's reason names ("rejected: 486 Busy Here")."""
    for word in reason.replace(":", " ").split():
        if word.isdigit() and len(word) == 3:
            rest = reason.split(word, 1)[1].strip() or "Failed"
            return int(word), rest
    return 480, "Temporarily Unavailable"


# ---------------------------------------------------------------------- requests


def control(core: CallCore, ev: AgentControl, now: float) -> tuple[ControlResult, list[A.Action]]:
    out: list[A.Action] = []
    call = core.calls.get(ev.key)
    if call is None or call.phase in (Phase.RELEASING, Phase.ENDED):
        return ControlResult(404, f"no live call {ev.key}"), out
    if ev.op not in OPS:
        return ControlResult(400, f"unknown operation {ev.op!r}"), out
    x = call.transfer
    if x is not None and x.phase == XPhase.RETURNED:
        call.transfer = x = None  # the agent acts on the call they got back
        core._arm(call, None)
    owner = x.agent if x is not None else call.agent
    if ev.agent != owner or call.phase != Phase.CONNECTED:
        return ControlResult(409, f"call {ev.key} is not connected to agent {ev.agent}"), out
    if call.callback is not None:
        return ControlResult(409, "a callback cannot be transferred"), out
    if x is None and call.agent not in call.offers:
        # Passed on to an agent or a number directly: that party is not Vaxel's agent leg.
        return ControlResult(409, "this call was transferred directly: no agent leg"), out
    result = _OPS[ev.op](core, call, ev, now, out)
    return result, out


def _hold(core: CallCore, call: CallState, ev: AgentControl, now: float,
          out: list[A.Action]) -> ControlResult:  # fmt: skip
    if call.transfer is not None:
        return ControlResult(409, "a transfer or consult is under way")
    if call.held:
        return ControlResult(200, "already on hold")
    call.held = True
    out.append(A.Unbridge(call.key))
    out.append(A.PlayQueueMusic(call.key, None, core.transfer_options.hold_music))
    core._log(call, K.HOLD, now, out, via=ev.via)
    return ControlResult(200, "on hold")


def _resume(core: CallCore, call: CallState, ev: AgentControl, now: float,
            out: list[A.Action]) -> ControlResult:  # fmt: skip
    x = call.transfer
    if x is not None and x.phase == XPhase.CONSULTING and x.via == Via.PHONE:
        # The phone takes the caller off hold while consulting: it talks to them now.
        return _toggle_to(core, call, x, "caller", now, out)
    if x is not None:
        return ControlResult(409, "a transfer or consult is under way")
    if not call.held:
        return ControlResult(200, "not on hold")
    call.held = False
    assert call.agent is not None
    out.append(A.StopQueueMusic(call.key))
    out.append(A.Bridge(call.key, call.agent))
    core._log(call, K.RESUME, now, out, via=ev.via)
    return ControlResult(200, "resumed")


def _start(core: CallCore, call: CallState, ev: AgentControl, now: float, out: list[A.Action],
           consult: bool) -> ControlResult:  # fmt: skip
    if call.transfer is not None:
        return ControlResult(409, "a transfer or consult is already under way")
    assert call.agent is not None
    target = core.transfer_target(ev.target or "")
    kind = K.CONSULT_STARTED if consult else K.TRANSFER_REQUESTED
    if isinstance(target, str):
        core._log(call, K.TRANSFER_FAILED, now, out, to=ev.target, reason=target, via=ev.via,
                  consult=consult)  # fmt: skip
        return ControlResult(404, target)
    if consult and target.kind not in (TargetKind.AGENT, TargetKind.NUMBER):
        reason = f"{target.dialled} is a {target.kind}: consult an agent or a number"
        core._log(call, K.TRANSFER_FAILED, now, out, to=target.dialled, reason=reason,
                  via=ev.via, consult=True)  # fmt: skip
        return ControlResult(409, reason)
    if target.agent is not None and target.agent == call.agent:
        return ControlResult(409, "an agent cannot transfer a call to themselves")
    offer = call.offers.get(call.agent)
    x = Transfer(
        XPhase.CONSULT_RINGING if consult else XPhase.RINGING,
        call.agent,
        target,
        ev.via,
        refer=ev.via == Via.REFER,
        agent_leg=PHONE_LEG if ev.via == Via.PHONE else call.agent,
        leg=CONSULT_LEG if consult else TRANSFER_LEG,
        agent_device=offer.device if offer is not None else None,
        started_at=now,
    )
    call.transfer = x
    core._log(call, kind, now, out, to=target.dialled, target_kind=target.kind, via=ev.via,
              to_agent=target.agent)  # fmt: skip
    if not call.held:
        out.append(A.Unbridge(call.key))
        out.append(A.PlayQueueMusic(call.key, None, core.transfer_options.hold_music))
    call.held = False
    if x.refer:
        out.append(A.Notify(call.key, x.agent, 100, "Trying", final=False))
    if consult:
        _ring(core, call, CONSULT_LEG, target, now, out)
        return ControlResult(202, f"consulting {target.dialled}")
    core._log(call, K.TRANSFER_STARTED, now, out, to=target.dialled, target_kind=target.kind,
              queue_to=target.queue, to_agent=target.agent)  # fmt: skip
    if target.kind == TargetKind.QUEUE:
        assert target.queue is not None
        _complete(core, call, x, now, out, to_leg=None)
        _requeue(core, call, target.queue, now, out)
    elif target.kind == TargetKind.SERVICE:
        assert target.service is not None
        _complete(core, call, x, now, out, to_leg=None)
        out.append(A.StopQueueMusic(call.key))
        core._service(call, target.service, target.queue or call.queue, out, agent=target.agent)
    else:
        _ring(core, call, TRANSFER_LEG, target, now, out)
    return ControlResult(202, f"transferring to {target.dialled}")


def _transfer(core: CallCore, call: CallState, ev: AgentControl, now: float,
              out: list[A.Action]) -> ControlResult:  # fmt: skip
    return _start(core, call, ev, now, out, consult=False)


def _consult(core: CallCore, call: CallState, ev: AgentControl, now: float,
             out: list[A.Action]) -> ControlResult:  # fmt: skip
    return _start(core, call, ev, now, out, consult=True)


def _toggle(core: CallCore, call: CallState, ev: AgentControl, now: float,
            out: list[A.Action]) -> ControlResult:  # fmt: skip
    x = call.transfer
    if x is None or x.phase != XPhase.CONSULTING:
        return ControlResult(409, "no consulted party to toggle with")
    other = "caller" if x.talking_to == CONSULT_LEG else CONSULT_LEG
    return _toggle_to(core, call, x, other, now, out)


def _toggle_to(core: CallCore, call: CallState, x: Transfer, to: str, now: float,
               out: list[A.Action]) -> ControlResult:  # fmt: skip
    if x.talking_to == to:
        return ControlResult(200, f"talking to the {to} already")
    music = core.transfer_options.hold_music
    out.append(A.Unbridge(call.key))
    if to == "caller":
        out.append(A.HoldParty(call.key, CONSULT_LEG, music))
        out.append(A.StopQueueMusic(call.key))
        out.append(A.Bridge(call.key, x.agent))  # the agent's own leg with the caller
    else:
        out.append(A.PlayQueueMusic(call.key, None, music))
        out.append(A.UnholdParty(call.key, CONSULT_LEG))
        out.append(A.BridgeAgents(call.key, x.agent_leg, CONSULT_LEG))
    x.talking_to = to
    core._log(call, K.CONSULT_TOGGLED, now, out, agent=x.agent, talking_to=to)
    return ControlResult(200, f"talking to the {'consulted party' if to != 'caller' else to}")


def _finish(core: CallCore, call: CallState, ev: AgentControl, now: float,
            out: list[A.Action]) -> ControlResult:  # fmt: skip
    x = call.transfer
    if x is None or x.phase not in (XPhase.CONSULTING, XPhase.CONSULT_RINGING):
        return ControlResult(409, "no consult to complete")
    if x.phase == XPhase.CONSULT_RINGING:
        # Completing before the consulted party answered: the agent steps out, blind.
        x.phase = XPhase.RINGING
        core._log(call, K.CONSULT_ENDED, now, out, agent=x.agent, reason="completed unanswered")
        core._log(call, K.TRANSFER_STARTED, now, out, agent=x.agent, to=x.target.dialled,
                  target_kind=x.target.kind, to_agent=x.target.agent)  # fmt: skip
        if x.via == Via.PHONE:
            _drop_phone_leg(call, out)
            x.via = Via.API
        return ControlResult(202, "transferring: the consulted party is still ringing")
    if ev.via == Via.REFER:
        x.refer = True
        out.append(A.Notify(call.key, x.agent, 100, "Trying", final=False))
    core._log(call, K.CONSULT_ENDED, now, out, agent=x.agent, reason="transferred")
    out.append(A.Unbridge(call.key))
    out.append(A.UnholdParty(call.key, CONSULT_LEG))
    _complete(core, call, x, now, out, to_leg=CONSULT_LEG, attended=True)
    return ControlResult(202 if ev.via == Via.REFER else 200, "transferred")


def _cancel(core: CallCore, call: CallState, ev: AgentControl, now: float,
            out: list[A.Action]) -> ControlResult:  # fmt: skip
    x = call.transfer
    if x is None or x.phase not in (XPhase.CONSULTING, XPhase.CONSULT_RINGING):
        return ControlResult(409, "no consult to cancel")
    _end_consult(core, call, x, now, out, "cancelled")
    return ControlResult(200, "back with the caller")


_OPS: dict[str, Callable[..., ControlResult]] = {
    "hold": _hold,
    "resume": _resume,
    "transfer": _transfer,
    "consult": _consult,
    "toggle": _toggle,
    "complete": _finish,
    "cancel_consult": _cancel,
}

# ---------------------------------------------------------------------- what follows


def _ring(core: CallCore, call: CallState, leg: str, target: TransferTarget, now: float,
          out: list[A.Action]) -> None:  # fmt: skip
    assert target.device is not None
    if target.agent is not None:  # the ACD offers them nothing else meanwhile
        call.engaged = target.agent
        out.append(A.AcdEngaged(target.agent, call.key, only_ready=True))
    call.offers[leg] = Offer(leg, target.device)
    out.append(A.RingAgent(call.key, leg, target.device))
    core._arm(call, now + core.transfer_options.ring_timeout)


def _complete(core: CallCore, call: CallState, x: Transfer, now: float, out: list[A.Action],
              *, to_leg: str | None, attended: bool = False) -> None:  # fmt: skip
    """The caller is handed over: the transferring agent's talk ends, their legs go."""
    t = x.target
    core._arm(call, None)
    if to_leg is not None:
        out.append(A.StopQueueMusic(call.key))
        out.append(A.Bridge(call.key, to_leg))
        call.offers[to_leg].phase = OfferPhase.CONNECTED
    core._log(call, K.TRANSFER_COMPLETED, now, out, agent=x.agent, to=t.dialled,
              target_kind=t.kind, to_agent=t.agent, attended=attended)  # fmt: skip
    if x.refer:
        out.append(A.Notify(call.key, x.agent, 200, "OK", final=True))
    if call.in_acd:
        call.in_acd = False
        out.append(A.AcdEnded(call.key, "transferred"))
    for leg in (x.agent, PHONE_LEG):
        if leg in call.offers:
            del call.offers[leg]
            out.append(A.DropAgent(call.key, leg))
    call.transfer = None
    call.held = False
    call.agent = t.agent if to_leg is not None else None
    call.connected_at = now if to_leg is not None else None


def _requeue(core: CallCore, call: CallState, queue: str, now: float,
             out: list[A.Action]) -> None:  # fmt: skip
    """Into ``queue`` keeping the original arrival (and priority), so the transferred
    caller is served before everyone who called after them."""
    first = call.first_arrival if call.first_arrival is not None else call.enqueued_at
    call.first_arrival = first if first is not None else now
    call.queue = queue
    call.phase = Phase.QUEUED
    call.enqueued_at = now
    call.priority = call.priority + core.transfer_options.queue_priority
    call.in_acd = True
    core._queue_music(call, out)
    out.append(
        A.AcdArrived(
            AcdCall(
                call.key,
                queue,
                call.priority,
                arrived_at=call.first_arrival,
                a_number=call.a_number,
                b_number=call.b_number,
            ),  # fmt: skip
            again=True,
        )
    )


def _failed(core: CallCore, call: CallState, x: Transfer, now: float, out: list[A.Action],
            reason: str, status: tuple[int, str]) -> None:  # fmt: skip
    """A blind target did not take the call: back to the transferring agent."""
    core._arm(call, None)
    if x.leg in call.offers:
        del call.offers[x.leg]
        out.append(A.DropAgent(call.key, x.leg))
    release(call, out)
    core._log(call, K.TRANSFER_FAILED, now, out, agent=x.agent, to=x.target.dialled,
              reason=reason, status=status[0])  # fmt: skip
    if x.refer:
        out.append(A.Notify(call.key, x.agent, status[0], status[1], final=True))
    _back_to_agent(core, call, x, now, out)


def _back_to_agent(core: CallCore, call: CallState, x: Transfer, now: float,
                   out: list[A.Action]) -> None:  # fmt: skip
    if x.agent in call.offers:
        x.phase = XPhase.RETURNED
        out.append(A.StopQueueMusic(call.key))
        out.append(A.Bridge(call.key, x.agent))
        core._log(call, K.TRANSFER_RETURNED, now, out, agent=x.agent)
        core._arm(call, now + RETURN_GRACE)
        return
    if x.agent_device is not None and x.phase != XPhase.RETURNING:
        # The agent's phone hung up after the REFER: ring it again, the caller on hold.
        x.phase = XPhase.RETURNING
        call.offers[x.agent] = Offer(x.agent, x.agent_device, OfferPhase.RINGING)
        out.append(A.RingAgent(call.key, x.agent, x.agent_device))
        core._arm(call, now + core.transfer_options.ring_timeout)
        return
    # Even the agent is not reached: the caller goes back to the queue, in their place.
    call.transfer = None
    core._log(call, K.TRANSFER_RETURNED, now, out, agent=x.agent, to_queue=call.queue)
    if call.in_acd:
        call.in_acd = False
        out.append(A.AcdEnded(call.key, "agent gone during a transfer"))
    out.append(A.StopQueueMusic(call.key))
    call.agent = None
    _requeue(core, call, call.queue or "", now, out)


def _end_consult(core: CallCore, call: CallState, x: Transfer, now: float,
                 out: list[A.Action], reason: str) -> None:  # fmt: skip
    """The consult is over without a transfer: the agent is back with the caller (from
    the API at once; a phone takes the caller off hold itself, with a re-INVITE)."""
    core._arm(call, None)
    release(call, out)
    core._log(call, K.CONSULT_ENDED, now, out, agent=x.agent, reason=reason)
    if CONSULT_LEG in call.offers:
        del call.offers[CONSULT_LEG]
        out.append(A.Unbridge(call.key))
        out.append(A.DropAgent(call.key, CONSULT_LEG))
    call.transfer = None
    if x.via == Via.PHONE:
        _drop_phone_leg(call, out)
        call.held = True  # the caller keeps hearing the hold music until the phone resumes
        out.append(A.PlayQueueMusic(call.key, None, core.transfer_options.hold_music))
    elif x.agent in call.offers:
        out.append(A.StopQueueMusic(call.key))
        out.append(A.Bridge(call.key, x.agent))
    else:
        _back_to_agent(core, call, x, now, out)


def release(call: CallState, out: list[A.Action]) -> None:
    """The agent held busy for this call is free again (the call ends, or the transfer to
    them failed)."""
    if call.engaged is not None:
        out.append(A.AcdReleased(call.engaged, call.key))
        call.engaged = None


def _drop_phone_leg(call: CallState, out: list[A.Action]) -> None:
    if PHONE_LEG in call.offers:
        del call.offers[PHONE_LEG]
        out.append(A.DropAgent(call.key, PHONE_LEG))
    else:
        out.append(A.RejectConsult(call.key, 487, "Request Terminated"))


# ---------------------------------------------------------------------- leg events


def owns(call: CallState, leg: str) -> bool:
    """Whether an event on ``leg`` is the transfer's to decide."""
    x = call.transfer
    if leg in (TRANSFER_LEG, CONSULT_LEG, PHONE_LEG):
        return True
    return x is not None and leg == x.agent


def on_answered(core: CallCore, call: CallState, leg: str, now: float,
                out: list[A.Action]) -> None:  # fmt: skip
    x = call.transfer
    if x is None:
        out.append(A.DropAgent(call.key, leg))
        return
    if leg == x.leg and x.phase == XPhase.RINGING:
        _complete(core, call, x, now, out, to_leg=leg)
    elif leg == x.agent and x.phase == XPhase.RETURNING:
        call.offers[x.agent].phase = OfferPhase.CONNECTED
        call.transfer = None
        core._arm(call, None)
        out.append(A.StopQueueMusic(call.key))
        out.append(A.Bridge(call.key, x.agent))
        core._log(call, K.TRANSFER_RETURNED, now, out, agent=x.agent)
    elif leg == CONSULT_LEG and x.phase == XPhase.CONSULT_RINGING:
        core._arm(call, None)
        x.phase = XPhase.CONSULTING
        x.talking_to = CONSULT_LEG
        call.offers[CONSULT_LEG].phase = OfferPhase.CONNECTED
        if x.via == Via.PHONE:
            call.offers[PHONE_LEG] = Offer(PHONE_LEG, "phone", OfferPhase.CONNECTED)
            out.append(A.AnswerConsult(call.key))
        out.append(A.BridgeAgents(call.key, x.agent_leg, CONSULT_LEG))
        core._log(call, K.CONSULT_CONNECTED, now, out, agent=x.agent, to=x.target.dialled,
                  to_agent=x.target.agent)  # fmt: skip
    else:
        out.append(A.DropAgent(call.key, leg))


def on_failed(core: CallCore, call: CallState, leg: str, reason: str, now: float,
              out: list[A.Action]) -> None:  # fmt: skip
    x = call.transfer
    if x is None:
        return
    status = _sip_status(reason)
    if leg == x.leg and x.phase == XPhase.RINGING:
        _failed(core, call, x, now, out, reason, status)
    elif leg == x.agent and x.phase == XPhase.RETURNING:
        del call.offers[x.agent]
        out.append(A.DropAgent(call.key, x.agent))
        _back_to_agent(core, call, x, now, out)
    elif leg == CONSULT_LEG and x.phase == XPhase.CONSULT_RINGING:
        if x.via == Via.PHONE:
            out.append(A.RejectConsult(call.key, *status))  # the phone hears why
            call.offers.pop(PHONE_LEG, None)
        _end_consult(core, call, x, now, out, f"failed: {reason}")


def on_gone(core: CallCore, call: CallState, leg: str, why: str, now: float,
            out: list[A.Action]) -> None:  # fmt: skip
    x = call.transfer
    phone_consult = (
        x is not None
        and x.via == Via.PHONE
        and x.phase in (XPhase.CONSULT_RINGING, XPhase.CONSULTING)
    )
    if leg not in call.offers and not (leg == PHONE_LEG and phone_consult):
        return  # a leg already dropped (a late BYE or dialog death): nothing changes
    if x is None:  # the party the caller was transferred to hung up
        call.offers.pop(leg, None)
        release(call, out)
        core._end(call, now, out, by="agent", reason=f"transfer target {why}")
        return
    if leg == x.agent and x.phase == XPhase.RETURNED:
        # The phone dropped the call it got back: ring it again, the caller on hold.
        call.offers.pop(leg, None)
        out.append(A.Unbridge(call.key))
        out.append(A.PlayQueueMusic(call.key, None, core.transfer_options.hold_music))
        core._log(call, K.TRANSFER_FAILED, now, out, agent=x.agent, to=x.target.dialled,
                  reason=f"the agent's phone {why} after the failed transfer")  # fmt: skip
        _back_to_agent(core, call, x, now, out)
        return
    if leg == x.agent:
        call.offers.pop(leg, None)
        if x.phase == XPhase.CONSULTING and x.via == Via.API:
            # Hanging up while consulting hands the caller over (as a PBX does).
            core._log(call, K.CONSULT_ENDED, now, out, agent=x.agent, reason="agent hung up")
            out.append(A.Unbridge(call.key))
            out.append(A.UnholdParty(call.key, CONSULT_LEG))
            _complete(core, call, x, now, out, to_leg=CONSULT_LEG, attended=True)
        elif x.phase == XPhase.CONSULT_RINGING and x.via == Via.API:
            x.phase = XPhase.RINGING  # it goes on as a blind transfer
            core._log(call, K.CONSULT_ENDED, now, out, agent=x.agent,
                      reason="agent hung up: transferred unanswered")  # fmt: skip
        # else: a blind transfer goes on; a failure rings the agent again.
        return
    if leg == PHONE_LEG:
        call.offers.pop(PHONE_LEG, None)
        _end_consult(core, call, x, now, out, "agent hung up the consult call")
        return
    # The leg is dropped (released) by what follows, as any leg that hung up is.
    if leg == CONSULT_LEG and x.phase in (XPhase.CONSULTING, XPhase.CONSULT_RINGING):
        _end_consult(core, call, x, now, out, f"consulted party {why}")
        return
    if leg == x.leg:
        _failed(core, call, x, now, out, f"target {why}", (480, "Temporarily Unavailable"))


def on_expired(core: CallCore, call: CallState, now: float, out: list[A.Action]) -> bool:
    x = call.transfer
    if x is None:
        return False
    if x.phase == XPhase.RETURNED:
        call.transfer = None  # the agent's phone kept the call: the transfer is over
    elif x.phase == XPhase.RINGING:
        _failed(core, call, x, now, out, "no answer", _STATUS["timeout"])
    elif x.phase == XPhase.RETURNING:
        call.offers.pop(x.agent, None)
        out.append(A.DropAgent(call.key, x.agent))
        _back_to_agent(core, call, x, now, out)
    elif x.phase == XPhase.CONSULT_RINGING:
        on_failed(core, call, CONSULT_LEG, "408 no answer", now, out)
    return True


def describe(call: CallState) -> dict[str, Any] | None:
    """What a live view shows of a transfer under way."""
    x = call.transfer
    if x is None:
        return {"held": True} if call.held else None
    return {
        "phase": str(x.phase),
        "agent": x.agent,
        "target": x.target.dialled,
        "target_kind": str(x.target.kind),
        "talking_to": x.talking_to if x.phase == XPhase.CONSULTING else None,
    }
