"""The executor's side of calls outside the queues (``callcore.outbound``): the dialling
policy from the configuration, what the core asks about agents (their devices, whether they
are free), the direct numbers' calendars, and the closed dialogue of a direct number.

The decisions stay in the call core; this module only answers its questions and carries
out what is particular to these calls.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from acd import Acd, AcdError, AgentState, Calendar
from callcore import OutboundPolicy
from config import VaxelConfig
from sip import Registrar

from .directory import SIP_DEVICE
from .session import InboundCall

QUEUE_HEADER = "X-Vaxel-Queue"  # a phone may name the queue its outbound call is for
_ON_A_CALL = frozenset({AgentState.BUSY, AgentState.RINGING})


def outbound_policy(config: VaxelConfig) -> OutboundPolicy:
    """``[outbound]`` and the queues' and agents' outbound settings, for the call core."""
    o = config.outbound
    trunk = next(iter(config.trunks.values()), None)
    queues = config.queues
    return OutboundPolicy(
        enabled=o.enabled,
        allowed_prefixes=tuple(o.allowed_prefixes),
        blocked_prefixes=tuple(o.blocked_prefixes),
        emergency_numbers=tuple(o.emergency_numbers),
        emergency=o.emergency,
        caller_id=o.caller_id or (trunk.caller_id if trunk is not None else None),
        queue_prefixes={q.outbound_prefix: qid for qid, q in queues.items() if q.outbound_prefix},
        queue_caller_ids={
            qid: q.outbound_caller_id for qid, q in queues.items() if q.outbound_caller_id
        },
        queue_wrap_up={qid: q.outbound_wrap_up for qid, q in queues.items() if q.outbound_wrap_up},
        agent_queues={
            aid: a.outbound_queue for aid, a in config.agents.items() if a.outbound_queue
        },
        ring_timeout=o.ring_timeout,
        agent_ring_timeout=o.agent_ring_timeout,
        known_queues=frozenset(queues),
    )


def direct_calendars(config: VaxelConfig) -> Callable[[str, float], bool]:
    """Whether a direct number's calendar is open at ``now``."""
    calendars = {
        t.calendar: Calendar(config.calendars[t.calendar], name=t.calendar)
        for t in config.numbers.values()
        if t.calendar is not None and t.calendar in config.calendars
    }

    def is_open(calendar: str, now: float) -> bool:
        cal = calendars.get(calendar)
        return cal is None or cal.is_open(now)

    return is_open


class Presence:
    """What the call core asks about an agent: where they are reached, and whether free."""

    def __init__(self, acd: Acd, registrar: Registrar) -> None:
        self.acd = acd
        self.registrar = registrar

    def devices(self, agent: str) -> tuple[str, ...]:
        """The ACD login's device (a SIP phone, a number, a remote login), and the agent's
        registered SIP phone, each once."""
        out: list[str] = []
        try:
            device = self.acd.agent_view(agent).device
        except AcdError:
            device = None
        if device:
            out.append(device)
        sip = f"{SIP_DEVICE}{agent}"
        if sip not in out and self.registrar.bindings(agent, time.time()):
            out.append(sip)
        return tuple(out)

    def dial_device(self, agent: str) -> str | None:
        """Where click-to-call rings the agent first: their login's device, else their phone."""
        devices = self.devices(agent)
        return devices[0] if devices else None

    def available(self, agent: str) -> bool:
        """Not on a queue call nor offered one (the ACD knows); the call core itself knows
        of the agent's calls outside the queues."""
        try:
            return self.acd.agent_view(agent).state not in _ON_A_CALL
        except AcdError:
            return False


async def direct_closed(
    call: InboundCall, config: VaxelConfig, voicemail: Callable[[InboundCall], Awaitable[None]]
) -> None:
    """A direct number outside its hours: its closed prompt, then the agent's voicemail."""
    target = config.numbers.get(call.b_number)
    prompt = (target.closed_prompt if target is not None else None) or "closed"
    await call.play([prompt if call.can_play(prompt) else "closed"])
    if target is not None and target.voicemail:
        await voicemail(call)
