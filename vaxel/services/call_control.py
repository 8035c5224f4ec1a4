"""What an agent does to their own call from a front door: hang up (SPEC S4).

The call core does the work as if the agent's phone had hung up: the caller's leg and
the agent's leg both get a BYE, the call log says ``ended_by: agent``; a queue with a
survey sends the caller on to it, as when the agent puts the handset down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from access import Action, decide
from callcore import Phase
from callcore import events as E

from .audit import Actor, AuditLog
from .errors import ServiceError

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

HANGUP_WHY = "hung up in the agent client"


class CallControlService:
    def __init__(self, stack: CallStack, audit: AuditLog) -> None:
        self.stack = stack
        self.audit = audit

    def connected_agent(self, actor: Actor, call_id: str) -> str:
        """The agent talking on ``call_id``, whom the actor may act for (else ServiceError)."""
        call = self.stack.controller.core.calls.get(call_id)
        if call is None:
            raise ServiceError("not_found", f"no call {call_id!r} now")
        if actor.principal is None:
            raise ServiceError("unauthenticated", "sign in first")
        if call.phase is not Phase.CONNECTED or call.agent is None:
            raise ServiceError(
                "conflict", f"call {call_id!r} is not connected to an agent ({call.phase.value})"
            )
        verdict = decide(actor.principal, Action.ACT_AGENT, target_agent=call.agent)
        if not verdict:
            raise ServiceError("forbidden", verdict.reason)
        return call.agent

    async def hangup(self, actor: Actor, call_id: str) -> str:
        """End the call for its agent; returns the agent."""
        agent = self.connected_agent(actor, call_id)
        self.stack.controller.feed(E.AgentGone(call_id, agent, HANGUP_WHY))
        principal = actor.principal
        if principal is None or principal.agent != agent:
            await self.audit.record(actor, "call.hangup", f"call {call_id}", after={"agent": agent})
        return agent
