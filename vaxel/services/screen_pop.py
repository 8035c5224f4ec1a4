"""The call offered to an agent, with its screen pop (docs/web.md, "Screen pop").

The URL template is the agent's own, else the queue's, else the system's (the most
specific wins). Placeholders are filled with the call's values, URL-encoded; a value not
known for this call ({CUSTID} without a customer number, {COMP} without a CRM company)
is left empty, so the page opened never sees a literal ``{...}``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from acd import AgentState
from config import ScreenPopConfig, VaxelConfig

from .live import iso

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack
    from vaxel.storage.calllog import CallLog

_PLACEHOLDER = re.compile(r"\{([A-Z]+)\}")


def screen_pop_config(config: VaxelConfig, agent: str, queue: str | None) -> ScreenPopConfig | None:
    """The template for ``agent`` answering ``queue``: agent, then queue, then system."""
    agent_cfg = config.agents.get(agent)
    if agent_cfg is not None and agent_cfg.screen_pop is not None:
        return agent_cfg.screen_pop
    queue_cfg = config.queues.get(queue) if queue is not None else None
    if queue_cfg is not None and queue_cfg.screen_pop is not None:
        return queue_cfg.screen_pop
    return config.screen_pop


def fill(template: str, values: dict[str, str | None]) -> str:
    """``template`` with each ``{NAME}`` replaced by its URL-encoded value ("" if unknown)."""
    return _PLACEHOLDER.sub(lambda m: quote(values.get(m.group(1)) or "", safe=""), template)


async def offer_json(stack: CallStack, calllog: CallLog, agent_id: str) -> dict[str, Any] | None:
    """The call the agent is offered or talking to, or None."""
    view = stack.acd.agent_view(agent_id)
    if view.call_id is None or view.state not in (AgentState.RINGING, AgentState.BUSY):
        return None
    acd_call = next((c.call for c in stack.acd.calls() if c.call.id == view.call_id), None)
    if acd_call is None:
        return None
    customer: dict[str, Any] = {}
    # The IVR's customer-number step logs what the caller keyed (and the CRM's match).
    for event in await calllog.events(call_id=acd_call.id, kind="customer_number", limit=10):
        customer = dict(event.data or {})
    config = stack.directory.config
    queue_cfg = config.queues.get(acd_call.queue)
    values: dict[str, str | None] = {
        "ANO": acd_call.a_number,
        "AID": acd_call.id,
        "CUSTID": customer.get("digits"),
        "QUEUE": acd_call.queue,
        "NAME": customer.get("name"),
        "COMP": customer.get("company"),
    }
    pop = screen_pop_config(config, agent_id, acd_call.queue)
    return {
        "call_id": acd_call.id,
        "queue": acd_call.queue,
        "queue_name": queue_cfg.name if queue_cfg is not None else None,
        "a_number": acd_call.a_number,
        "arrived_at": iso(acd_call.arrived_at),
        "customer_number": customer.get("digits"),
        "customer_name": customer.get("name"),
        "screen_pop": None if pop is None else {"url": fill(pop.url, values), "open": pop.open},
    }
