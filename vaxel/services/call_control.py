"""Agents acting on their live calls (hang up, hold, transfer, consult; docs/transfers.md),
shared by every front door. The call core decides (``callcore.transfer``); this checks who may ask
(an agent for their own calls, managers and admins for any: docs/access.md) and turns the
core's answer into the service layer's errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from access import Action, decide
from callcore import AgentControl, Phase, Via
from callcore import events as E
from callcore import transfer as X

from .audit import Actor, AuditLog
from .errors import ServiceError

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

HANGUP_WHY = "hung up in the agent client"

# The API's operation names (the web client's buttons call exactly these) -> the core's.
OPERATIONS = {
    "hold": "hold",
    "resume": "resume",
    "transfer": "transfer",
    "consult": "consult",
    "toggle": "toggle",
    "complete": "complete",
    "cancel-consult": "cancel_consult",
}
NEEDS_TARGET = frozenset({"transfer", "consult"})
_KINDS: dict[int, Any] = {400: "invalid", 403: "forbidden", 404: "not_found", 409: "conflict"}


class CallControlService:
    def __init__(self, stack: CallStack, audit: AuditLog) -> None:
        self.stack = stack
        self.audit = audit

    def agent_of(self, call_id: str) -> str:
        """The agent who may act on the call: the one connected (or transferring it)."""
        state = self.stack.controller.core.calls.get(call_id)
        if state is None:
            raise ServiceError("not_found", f"no live call {call_id!r}")
        agent = state.transfer.agent if state.transfer is not None else state.agent
        if agent is None:
            raise ServiceError("conflict", f"call {call_id!r} is not connected to an agent")
        return agent

    async def act(
        self, actor: Actor, call_id: str, operation: str, target: str | None = None
    ) -> dict[str, Any]:
        """Carry out ``operation`` on the call; what the call is now (``call``) and why."""
        if operation not in OPERATIONS:
            raise ServiceError("not_found", f"unknown call operation {operation!r}")
        if operation in NEEDS_TARGET and not target:
            raise ServiceError(
                "invalid", "field 'target': required: a queue number, an agent id or a number"
            )
        agent = self.agent_of(call_id)
        if actor.principal is None:
            raise ServiceError("unauthenticated", "sign in first")
        verdict = decide(actor.principal, Action.ACT_AGENT, target_agent=agent)
        if not verdict:
            raise ServiceError("forbidden", verdict.reason)
        control = AgentControl(call_id, agent, OPERATIONS[operation], target, Via.API)
        result = self.stack.controller.transfers.control(control)
        if not result.ok:
            raise ServiceError(_KINDS.get(result.status, "conflict"), result.reason)
        principal = actor.principal
        if principal.agent != agent:  # a manager acting for an agent: audited
            await self.audit.record(actor, f"call.{operation}", f"call {call_id}",
                                    after={"agent": agent, "target": target})  # fmt: skip
        state = self.stack.controller.core.calls.get(call_id)
        return {
            "call_id": call_id,
            "agent": agent,
            "operation": operation,
            "status": result.status,
            "message": result.reason,
            "transfer": X.describe(state) if state is not None else None,
        }

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
