"""Agents: their live state, and login/logout/pause/ready/wrap-up through the ACD (S4)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from acd import AcdError, AgentState
from vaxel.services import AgentService, DialService
from vaxel.services.agents import DEVICE_KINDS, own_agents
from vaxel.services.live import agent_json, device_kind, iso
from vaxel.services.screen_pop import offer_json

from .auth import actor_of
from .body import json_object, shown
from .context import server_of
from .errors import ApiError

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

from .openapi import operation, path_param, ref

routes = web.RouteTableDef()

# Re-exported for the other routes (the views themselves live in vaxel/services/live.py).
__all__ = ["agent_json", "call_stack", "device_kind", "iso", "json_object", "routes"]


# ---------------------------------------------------------------------- shared helpers


def call_stack(request: web.Request) -> CallStack:
    stack = server_of(request).calls
    if stack is None:
        raise ApiError(503, "call handling is not running yet")
    return stack


def optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"field {name!r}: expected a non-empty string, got {shown(value)}")
    return value.strip()


def _service(request: web.Request) -> tuple[AgentService, CallStack]:
    stack = call_stack(request)
    return AgentService(stack, server_of(request).audit), stack


def _respond(stack: CallStack, agent_id: str) -> web.Response:
    return web.json_response({"agent": agent_json(stack, agent_id)})


# ---------------------------------------------------------------------- reading


@routes.get("/api/agents")
async def list_agents(request: web.Request) -> web.Response:
    stack = call_stack(request)
    now = time.time()
    return web.json_response(
        {"agents": [agent_json(stack, cfg.id, now) for cfg in stack.acd.agent_configs()]}
    )


@routes.get("/api/agents/{agent_id}")
async def get_agent(request: web.Request) -> web.Response:
    stack = call_stack(request)
    agent_id = request.match_info["agent_id"]
    try:
        stack.acd.agent_config(agent_id)
    except AcdError:
        raise ApiError(404, f"unknown agent {agent_id!r}") from None
    offer = None
    if own_agents(actor_of(request), [agent_id]):  # the caller's number: not for every agent
        offer = await offer_json(stack, server_of(request).calllog, agent_id)
    return web.json_response({"agent": agent_json(stack, agent_id), "offer": offer})


# ---------------------------------------------------------------------- actions
# Agents act for themselves only; managers and admins for anyone (vaxel/services/agents.py).


@routes.post("/api/agents/{agent_id}/login")
async def login(request: web.Request) -> web.Response:
    service, stack = _service(request)
    agent_id = request.match_info["agent_id"]
    service.check(actor_of(request), agent_id)
    body = await json_object(request, frozenset({"device", "number", "groups", "client"}))
    warnings = await service.login(
        actor_of(request),
        agent_id,
        body.get("device"),
        body.get("number"),
        body.get("groups"),
        body.get("client"),
    )
    return web.json_response({"agent": agent_json(stack, agent_id), "warnings": warnings})


@routes.post("/api/agents/{agent_id}/logout")
async def logout(request: web.Request) -> web.Response:
    service, stack = _service(request)
    agent_id = request.match_info["agent_id"]
    service.check(actor_of(request), agent_id)
    body = await json_object(request, frozenset({"reason"}))
    await service.logout(actor_of(request), agent_id, optional_str(body, "reason"))
    return _respond(stack, agent_id)


@routes.post("/api/agents/{agent_id}/pause")
async def pause(request: web.Request) -> web.Response:
    service, stack = _service(request)
    agent_id = request.match_info["agent_id"]
    service.check(actor_of(request), agent_id)
    body = await json_object(request, frozenset({"reason"}))
    await service.pause(actor_of(request), agent_id, optional_str(body, "reason"))
    return _respond(stack, agent_id)


@routes.post("/api/agents/{agent_id}/ready")
async def ready(request: web.Request) -> web.Response:
    service, stack = _service(request)
    agent_id = request.match_info["agent_id"]
    service.check(actor_of(request), agent_id)
    await json_object(request, frozenset())
    await service.ready(actor_of(request), agent_id)
    return _respond(stack, agent_id)


@routes.post("/api/agents/{agent_id}/wrapup_done")
async def wrapup_done(request: web.Request) -> web.Response:
    service, stack = _service(request)
    agent_id = request.match_info["agent_id"]
    service.check(actor_of(request), agent_id)
    body = await json_object(request, frozenset({"classification"}))
    await service.wrap_up_done(actor_of(request), agent_id, optional_str(body, "classification"))
    return _respond(stack, agent_id)


@routes.post("/api/agents/{agent_id}/dial")
async def dial(request: web.Request) -> web.Response:
    """Click-to-call: the agent's device rings first, then the number (docs/outbound.md)."""
    stack = call_stack(request)
    service = DialService(stack, server_of(request).audit)
    agent_id = request.match_info["agent_id"]
    service.agents.check(actor_of(request), agent_id)
    body = await json_object(request, frozenset({"number", "queue"}))
    call = await service.dial(actor_of(request), agent_id, body.get("number"), body.get("queue"))
    return web.json_response({"call": call}, status=201)


# ---------------------------------------------------------------------- OpenAPI


_AGENT_PARAM = path_param("agent_id", "the agent's user id, e.g. 1001")
_AGENT_ERRORS = {404: "unknown agent", 409: "the ACD refused (message says why)"}
_ONE_AGENT = {"type": "object", "properties": {"agent": ref("Agent")}}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Offer": {
        "type": ["object", "null"],
        "properties": {
            "call_id": {"type": "string"},
            "queue": {"type": "string"},
            "queue_name": {"type": ["string", "null"]},
            "a_number": {"type": ["string", "null"]},
            "arrived_at": {"type": ["string", "null"], "format": "date-time"},
            "customer_number": {"type": ["string", "null"]},
            "customer_name": {"type": ["string", "null"]},
            "screen_pop": {
                "type": ["object", "null"],
                "properties": {"url": {"type": "string"}, "open": {"enum": ["tab", "frame"]}},
            },
        },
    },
    "Agent": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "state": {"enum": [s.value for s in AgentState]},
            "device": {
                "type": ["string", "null"],
                "description": '"sip:<id>" (registered phones) or "tel:<number>" (trunk)',
            },
            "device_kind": {"enum": [*DEVICE_KINDS, None]},
            "groups": {
                "type": "array",
                "items": {"type": "string"},
                "description": "answer groups logged in to",
            },
            "member_of": {"type": "array", "items": {"type": "string"}},
            "preselected_groups": {"type": "array", "items": {"type": "string"}},
            "call_id": {"type": ["string", "null"]},
            "calls_answered": {"type": "integer"},
            "unanswered_in_row": {"type": "integer"},
            "pause_reason": {"type": ["string", "null"]},
            "state_since": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "when the agent entered this state (null: offline since start)",
            },
            "idle_since": {"type": ["string", "null"], "format": "date-time"},
            "wrap_up_until": {"type": ["string", "null"], "format": "date-time"},
            "remote_number": {"type": ["string", "null"]},
            "registered_contacts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "contact": {"type": "string"},
                        "transport": {"type": "string"},
                        "source": {"type": "string"},
                        "expires_in": {"type": "integer"},
                        "user_agent": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/agents": {
        "get": operation(
            "All agents with live state and registered phones",
            tag="agents",
            ok={
                "type": "object",
                "properties": {"agents": {"type": "array", "items": ref("Agent")}},
            },
        )
    },
    "/api/agents/{agent_id}": {
        "get": operation(
            "One agent",
            tag="agents",
            description="`offer` (for the agent themselves, managers and admins only): the "
            "call the agent is offered or talks to, with its screen pop, or null.",
            params=[_AGENT_PARAM],
            ok={
                "type": "object",
                "properties": {"agent": ref("Agent"), "offer": ref("Offer")},
            },
            errors={404: "unknown agent"},
        )
    },
    "/api/agents/{agent_id}/login": {
        "post": operation(
            "Log in (again): replaces an earlier login",
            tag="agents",
            description="device sip: ring the agent's registered SIP phone(s); pstn: ring "
            "`number` through the trunk; remote: ring the agent's configured remote number. "
            "`groups` defaults to the preselected groups, else all the agent's groups.",
            params=[_AGENT_PARAM],
            body={
                "type": "object",
                "required": ["device"],
                "additionalProperties": False,
                "properties": {
                    "device": {"enum": list(DEVICE_KINDS)},
                    "number": {"type": "string", "description": "required with device pstn"},
                    "groups": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "client": {
                        "type": "boolean",
                        "description": "the agent client's own login: logged out a grace "
                        "period ([web] client_grace_seconds) after its event stream is lost",
                    },
                },
            },
            body_required=True,
            ok=_ONE_AGENT,
            errors={400: "invalid body (the message names the field)", **_AGENT_ERRORS},
        )
    },
    "/api/agents/{agent_id}/logout": {
        "post": operation(
            "Log out (while in a call: when the call ends)",
            tag="agents",
            params=[_AGENT_PARAM],
            body={
                "type": "object",
                "additionalProperties": False,
                "properties": {"reason": {"type": "string"}},
            },
            ok=_ONE_AGENT,
            errors={400: "invalid body", **_AGENT_ERRORS},
        )
    },
    "/api/agents/{agent_id}/pause": {
        "post": operation(
            "Pause with a reason (while busy/wrap-up: after wrap-up)",
            tag="agents",
            params=[_AGENT_PARAM],
            body={
                "type": "object",
                "required": ["reason"],
                "additionalProperties": False,
                "properties": {"reason": {"type": "string", "minLength": 1}},
            },
            body_required=True,
            ok=_ONE_AGENT,
            errors={400: "invalid body (reason missing)", **_AGENT_ERRORS},
        )
    },
    "/api/agents/{agent_id}/ready": {
        "post": operation(
            "Ready: ends a pause or wrap-up, cancels a pending pause/logout",
            tag="agents",
            params=[_AGENT_PARAM],
            ok=_ONE_AGENT,
            errors={400: "invalid body", **_AGENT_ERRORS},
        )
    },
    "/api/agents/{agent_id}/dial": {
        "post": operation(
            "Click-to-call: ring the agent's device, then call the number through the trunk "
            "with the queue's (or the company's) caller id, and bridge the two",
            tag="agents",
            params=[_AGENT_PARAM],
            body={
                "type": "object",
                "additionalProperties": False,
                "required": ["number"],
                "properties": {
                    "number": {"type": "string", "description": "digits, optional leading +"},
                    "queue": {"type": "string", "description": "the queue it counts for"},
                },
            },
            ok={
                "type": "object",
                "properties": {
                    "call": {
                        "type": "object",
                        "properties": {
                            "call_id": {"type": "string"},
                            "agent": {"type": "string"},
                            "number": {"type": "string"},
                            "queue": {"type": ["string", "null"]},
                            "caller_id": {"type": ["string", "null"]},
                        },
                    }
                },
            },
            ok_status=201,
            errors={
                400: "invalid body, or a number that is not one (names the field)",
                403: "not allowed to dial for this agent, or the number is not allowed",
                404: "unknown agent",
                409: "the agent has no device to ring",
            },
        )
    },
    "/api/agents/{agent_id}/wrapup_done": {
        "post": operation(
            "End wrap-up now (with the classification code if the queue needs one)",
            tag="agents",
            params=[_AGENT_PARAM],
            body={
                "type": "object",
                "additionalProperties": False,
                "properties": {"classification": {"type": "string"}},
            },
            ok=_ONE_AGENT,
            errors={400: "invalid body", **_AGENT_ERRORS},
        )
    },
}
