"""The browser softphone as every front door sees it: the page's SDP offer, its socket.

The agent's page is one more device kind (``browser``, vaxel/calls/browser_phone.py); who
may open it is decided as for every agent action (``access``: agents their own only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaxel.calls.browser_phone import OfferError

from .agents import AgentService
from .audit import Actor, AuditLog
from .errors import ServiceError

if TYPE_CHECKING:
    from vaxel.calls.browser_phone import Send
    from vaxel.calls.wiring import CallStack


class SoftphoneService:
    def __init__(self, stack: CallStack, audit: AuditLog) -> None:
        self.stack = stack
        self._agents = AgentService(stack, audit)

    def check(self, actor: Actor, agent_id: str) -> None:
        """Known agent, and the actor may act for it (else ServiceError)."""
        self._agents.check(actor, agent_id)

    async def answer(self, actor: Actor, agent_id: str, kind: object, sdp: object) -> str:
        """Vaxel's SDP answer to the page's offer (its WebRTC connection for calls)."""
        self.check(actor, agent_id)
        if kind != "offer":
            raise ServiceError("invalid", f"field 'type': expected \"offer\", got {kind!r}")
        try:
            return await self.stack.browsers.connect(agent_id, sdp)
        except OfferError as exc:
            raise ServiceError("invalid", str(exc)) from None

    def attach(self, agent_id: str, send: Send) -> Send:
        return self.stack.browsers.attach(agent_id, send)

    def detach(self, agent_id: str, send: Send) -> None:
        self.stack.browsers.detach(agent_id, send)

    def command(self, agent_id: str, msg: dict[str, Any]) -> str | None:
        """A message from the page (answer-call, hang-up); an error text, or None."""
        return self.stack.browsers.command(agent_id, msg)
