"""Queues: configuration summary plus live figures (waiting callers, EWT, serving agents)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from acd import AcdError
from vaxel.services.live import queue_json

from .agents_routes import call_stack
from .errors import ApiError
from .openapi import operation, path_param, ref

routes = web.RouteTableDef()


@routes.get("/api/queues")
async def list_queues(request: web.Request) -> web.Response:
    stack = call_stack(request)
    now = time.time()
    return web.json_response(
        {"queues": [queue_json(stack, qid, now) for qid in stack.directory.config.queues]}
    )


@routes.get("/api/queues/{queue_id}")
async def get_queue(request: web.Request) -> web.Response:
    stack = call_stack(request)
    queue_id = request.match_info["queue_id"]
    try:
        stack.acd.queue_config(queue_id)
    except AcdError:
        raise ApiError(404, f"unknown queue {queue_id!r}") from None
    return web.json_response({"queue": queue_json(stack, queue_id, time.time())})


# ---------------------------------------------------------------------- OpenAPI


_SECONDS = {"type": ["number", "null"]}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Queue": {
        "type": "object",
        "description": "Configuration summary plus `live` figures at `live.at`.",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "numbers": {"type": "array", "items": {"type": "string"}},
            "answer_groups": {"type": "array", "items": {"type": "string"}},
            "strategy": {"type": "string"},
            "priority": {"type": "integer"},
            "ring_timeout": {"type": "number"},
            "wrap_up": {"type": "number"},
            "service_level_seconds": {"type": "number"},
            "announce_interval": _SECONDS,
            "max_wait": _SECONDS,
            "max_length": {"type": ["integer", "null"]},
            "overflow_queue": {"type": ["string", "null"]},
            "overflow_when_no_agents": {"type": "boolean"},
            "calendar": {"type": ["string", "null"]},
            "language": {"type": ["string", "null"]},
            "live": {
                "type": "object",
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "waiting": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "call_id": {"type": "string"},
                                "position": {"type": "integer"},
                                "priority": {"type": "integer"},
                                "effective_priority": {"type": "integer"},
                                "a_number": {"type": ["string", "null"]},
                                "channel": {"type": "string"},
                                "wait_seconds": {
                                    "type": "number",
                                    "description": "since arrival in the system",
                                },
                                "queue_wait_seconds": {"type": "number"},
                                "estimated_wait_seconds": _SECONDS,
                            },
                        },
                    },
                    "waiting_count": {"type": "integer"},
                    "ringing_count": {"type": "integer"},
                    "connected_count": {"type": "integer"},
                    "estimated_wait_seconds": {
                        **_SECONDS,
                        "description": "for a caller arriving now",
                    },
                    "longest_wait_seconds": _SECONDS,
                    "average_handle_time_seconds": {"type": "number"},
                    "staffed_agents": {
                        "type": "integer",
                        "description": "logged in to a serving group, not paused",
                    },
                    "agents_logged_in": {"type": "integer"},
                    "agents_ready": {"type": "integer"},
                    "agents": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "name": {"type": "string"},
                                "state": {"type": "string"},
                                "groups": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/queues": {
        "get": operation(
            "All queues with live figures",
            tag="queues",
            ok={
                "type": "object",
                "properties": {"queues": {"type": "array", "items": ref("Queue")}},
            },
        )
    },
    "/api/queues/{queue_id}": {
        "get": operation(
            "One queue with live figures",
            tag="queues",
            params=[path_param("queue_id", "the queue id from the configuration")],
            ok={"type": "object", "properties": {"queue": ref("Queue")}},
            errors={404: "unknown queue"},
        )
    },
}
