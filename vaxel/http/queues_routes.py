"""Queues: configuration summary plus live figures (waiting callers, EWT, serving agents)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from acd import AcdError, AgentState, new_caller_wait

from .agents_routes import call_stack, iso
from .errors import ApiError

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

from .openapi import operation, path_param, ref

routes = web.RouteTableDef()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def queue_json(stack: CallStack, queue_id: str, now: float) -> dict[str, Any]:
    acd = stack.acd
    q = acd.queue_config(queue_id)
    settings = stack.directory.config.queues[queue_id]
    numbers = sorted(n for n, t in stack.directory.config.numbers.items() if t.queue == queue_id)

    waiting: list[dict[str, Any]] = []
    ringing = connected = 0
    for cv in acd.calls():
        if cv.call.queue != queue_id:
            continue
        if cv.state == "ringing":
            ringing += 1
        elif cv.state == "connected":
            connected += 1
        else:
            arrived = cv.call.arrived_at if cv.call.arrived_at is not None else cv.entered_queue_at
            waiting.append(
                {
                    "call_id": cv.call.id,
                    "position": acd.position(cv.call.id),
                    "priority": cv.call.priority,
                    "effective_priority": q.priority + cv.call.priority,
                    "a_number": cv.call.a_number,
                    "channel": cv.call.channel.value,
                    "wait_seconds": _rounded(now - arrived),
                    "queue_wait_seconds": _rounded(now - cv.entered_queue_at),
                    "estimated_wait_seconds": _rounded(acd.estimated_wait(cv.call.id)),
                }
            )
    waiting.sort(key=lambda w: w["position"] or 0)

    agents = []
    for view in acd.agents():
        if view.state is AgentState.OFFLINE or not view.groups & set(q.answer_groups):
            continue
        agents.append(
            {
                "id": view.id,
                "name": acd.agent_config(view.id).name,
                "state": view.state.value,
                "groups": sorted(view.groups & set(q.answer_groups)),
            }
        )
    ready = sum(1 for a in agents if a["state"] == AgentState.READY.value)
    staffed = acd.staffed_agents(queue_id)
    aht = acd.average_handle_time(queue_id)
    return {
        "id": q.id,
        "name": q.name,
        "numbers": numbers,
        "answer_groups": list(q.answer_groups),
        "strategy": q.strategy.value,
        "priority": q.priority,
        "ring_timeout": q.ring_timeout,
        "wrap_up": q.wrap_up,
        "service_level_seconds": q.service_level_seconds,
        "announce_interval": q.announce_interval,
        "max_wait": settings.max_wait,
        "max_length": settings.max_length,
        "overflow_queue": settings.overflow_queue,
        "overflow_when_no_agents": settings.overflow_when_no_agents,
        "calendar": settings.calendar,
        "language": settings.language,
        "live": {
            "at": iso(now),
            "waiting": waiting,
            "waiting_count": len(waiting),
            "ringing_count": ringing,
            "connected_count": connected,
            "estimated_wait_seconds": _rounded(new_caller_wait(len(waiting), ready, staffed, aht)),
            "longest_wait_seconds": max((w["wait_seconds"] for w in waiting), default=None),
            "average_handle_time_seconds": _rounded(aht),
            "staffed_agents": staffed,
            "agents_logged_in": len(agents),
            "agents_ready": ready,
            "agents": agents,
        },
    }


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
