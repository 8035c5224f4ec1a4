"""Click-to-call, as every front door offers it: an agent's device rings first, then the
customer through the trunk (``callcore.outbound`` decides; docs/outbound.md).

Agents dial for themselves only (``access.Action.ACT_AGENT``); a manager or admin who
dials for an agent is audited.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .agents import AgentService
from .audit import Actor, AuditLog
from .errors import ErrorKind, ServiceError

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

_SEPARATORS = re.compile(r"[\s\-().]")
# The call core's refusal statuses, as the service layer's kinds.
_KINDS: dict[int, ErrorKind] = {403: "forbidden", 404: "invalid", 409: "conflict", 484: "invalid"}


class DialService:
    def __init__(self, stack: CallStack, audit: AuditLog) -> None:
        self.stack = stack
        self.audit = audit
        self.agents = AgentService(stack, audit)

    async def dial(
        self, actor: Actor, agent_id: str, number: object, queue: object = None
    ) -> dict[str, Any]:
        """Start the call; its id and what it does now (the agent's device rings)."""
        self.agents.check(actor, agent_id)
        if number is None:
            raise ServiceError("invalid", "field 'number': required (the number to call)")
        if not isinstance(number, str) or not number.strip():
            raise ServiceError(
                "invalid", f"field 'number': expected a phone number, got {number!r}"
            )
        if queue is not None and (not isinstance(queue, str) or not queue):
            raise ServiceError("invalid", f"field 'queue': expected a queue id, got {queue!r}")
        digits = _SEPARATORS.sub("", number)
        call_id, refusal = self.stack.controller.dial(agent_id, digits, queue)
        if refusal is not None:
            field = "queue" if refusal.status == 404 else "number"
            if refusal.status == 409:
                raise ServiceError("conflict", refusal.reason)
            kind = _KINDS.get(refusal.status, "conflict")
            raise ServiceError(kind, f"field {field!r}: {refusal.reason}")
        principal = actor.principal
        if principal is None or principal.agent != agent_id:
            await self.audit.record(
                actor, "agent.dial", f"agent {agent_id}", after={"number": digits, "call": call_id}
            )
        state = self.stack.controller.core.calls.get(call_id)
        return {
            "call_id": call_id,
            "agent": agent_id,
            "number": digits,
            "queue": state.queue if state is not None else None,
            "caller_id": state.a_number if state is not None else None,
        }
