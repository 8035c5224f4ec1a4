"""Live calls: every caller the controller holds right now, with its state and times."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from vaxel.services.call_control import CallControlService
from vaxel.services.live import live_call_json, live_calls

from .agents_routes import call_stack
from .auth import actor_of
from .body import json_object
from .context import server_of

__all__ = ["live_call_json", "routes"]
from .openapi import operation, path_param, ref

routes = web.RouteTableDef()


@routes.get("/api/calls")
async def live_calls_route(request: web.Request) -> web.Response:
    return web.json_response({"calls": live_calls(call_stack(request), time.time())})


@routes.post("/api/calls/{call_id}/hangup")
async def hangup(request: web.Request) -> web.Response:
    """The agent ends their own call (managers and admins: anyone's)."""
    service = CallControlService(call_stack(request), server_of(request).audit)
    call_id = request.match_info["call_id"]
    actor = actor_of(request)
    service.connected_agent(actor, call_id)  # 404/409/403 before the body is read
    await json_object(request, frozenset())
    agent = await service.hangup(actor, call_id)
    return web.json_response({"call_id": call_id, "agent": agent, "ended_by": "agent"})


# ---------------------------------------------------------------------- OpenAPI


_TIME = {"type": ["string", "null"], "format": "date-time"}
_SECONDS = {"type": ["number", "null"]}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "LiveCall": {
        "type": "object",
        "properties": {
            "call_id": {"type": "string"},
            "kind": {"enum": ["inbound", "outbound", "click-to-call", "direct"]},
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
            "transfer": {
                "type": ["object", "null"],
                "description": "hold or a transfer under way: {held: true}, or phase "
                "(ringing, returning, returned, consult_ringing, consulting), agent, target, "
                "target_kind, talking_to (caller or consult, while consulting)",
            },
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
    "/api/calls/{call_id}/hangup": {
        "post": operation(
            "Hang up a call connected to an agent (agents: their own call)",
            tag="calls",
            description="Both legs get a BYE and the call log says ended_by agent; with a "
            "survey the caller goes on to it, as when the agent's phone hangs up.",
            params=[path_param("call_id", "the call's id (GET /api/calls, the offer)")],
            ok={
                "type": "object",
                "properties": {
                    "call_id": {"type": "string"},
                    "agent": {"type": "string"},
                    "ended_by": {"const": "agent"},
                },
            },
            errors={
                400: "invalid body",
                404: "no such call now",
                409: "the call is not connected to an agent",
            },
        )
    },
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
