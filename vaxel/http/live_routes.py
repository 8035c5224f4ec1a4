"""Live calls: every caller the controller holds right now, with its state and times."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from vaxel.services.live import live_call_json, live_calls

from .agents_routes import call_stack

__all__ = ["live_call_json", "routes"]
from .openapi import operation, ref

routes = web.RouteTableDef()


@routes.get("/api/calls")
async def live_calls_route(request: web.Request) -> web.Response:
    return web.json_response({"calls": live_calls(call_stack(request), time.time())})


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
