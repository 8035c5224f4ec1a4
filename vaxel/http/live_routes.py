"""Live calls: every caller the controller holds right now, with its state and times."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .agents_routes import call_stack, iso

if TYPE_CHECKING:
    from acd import CallView
    from callcore import CallState

from .openapi import operation, ref

routes = web.RouteTableDef()


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(max(0.0, value), 1)


def live_call_json(
    call: CallState,
    acd_view: CallView | None,
    now: float,
    quality: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``state``: ``ivr`` (prompts/menus, not queued), ``waiting``, ``ringing``, ``connected``;
    ``quality``: the latest interval MOS per leg (docs/mos.md)."""
    if call.connected_at is not None:
        state = "connected"
    elif acd_view is not None:
        state = acd_view.state
    elif call.in_acd:
        state = "waiting"
    else:
        state = "ivr"
    if call.agent is not None:
        agent: str | None = call.agent
    elif acd_view is not None and acd_view.state == "connected" and acd_view.agents:
        agent = acd_view.agents[0]
    else:
        agent = None
    ringing = list(acd_view.agents) if acd_view is not None and state == "ringing" else []
    wait_end = call.connected_at if call.connected_at is not None else now
    return {
        "call_id": call.key,
        "a_number": call.a_number,
        "b_number": call.b_number,
        "queue": acd_view.call.queue if acd_view is not None else call.queue,
        "agent": agent,
        "ringing_agents": ringing,
        "state": state,
        "started_at": iso(call.started_at),
        "enqueued_at": iso(call.enqueued_at),
        "connected_at": iso(call.connected_at),
        "duration_seconds": _seconds(now - call.started_at),
        "wait_seconds": _seconds(wait_end - call.enqueued_at) if call.enqueued_at else None,
        "talk_seconds": _seconds(now - call.connected_at) if call.connected_at else None,
        "quality": quality or {},
    }


@routes.get("/api/calls")
async def live_calls(request: web.Request) -> web.Response:
    stack = call_stack(request)
    now = time.time()
    views = {v.call.id: v for v in stack.acd.calls()}
    calls = sorted(stack.controller.core.calls.values(), key=lambda c: c.started_at)
    return web.json_response(
        {
            "calls": [
                live_call_json(c, views.get(c.key), now, stack.controller.live_quality(c.key))
                for c in calls
            ]
        }
    )


# ---------------------------------------------------------------------- OpenAPI


_TIME = {"type": ["string", "null"], "format": "date-time"}
_SECONDS = {"type": ["number", "null"]}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "LiveCall": {
        "type": "object",
        "properties": {
            "call_id": {"type": "string"},
            "a_number": {"type": ["string", "null"]},
            "b_number": {"type": "string"},
            "queue": {"type": ["string", "null"]},
            "agent": {"type": ["string", "null"]},
            "ringing_agents": {"type": "array", "items": {"type": "string"}},
            "state": {"enum": ["ivr", "waiting", "ringing", "connected"]},
            "started_at": _TIME,
            "enqueued_at": _TIME,
            "connected_at": _TIME,
            "duration_seconds": {"type": "number"},
            "wait_seconds": _SECONDS,
            "talk_seconds": _SECONDS,
            "quality": {
                "type": "object",
                "description": "latest interval MOS per leg (caller, agent): mos, r, "
                "loss_pct, jitter_ms, rtt_ms, warning (a call_quality_warning is standing); "
                "empty before the first interval",
                "additionalProperties": {"type": "object"},
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/calls": {
        "get": operation(
            "Calls in progress, oldest first",
            tag="calls",
            ok={
                "type": "object",
                "properties": {"calls": {"type": "array", "items": ref("LiveCall")}},
            },
        )
    },
}
