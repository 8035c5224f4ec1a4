"""The OpenAPI 3.1 description of the API, served (without a token) at /api/openapi.json.

Each route module describes its own paths: a module-level ``OPENAPI_PATHS`` dict (path ->
method -> operation, built with :func:`operation`) and optionally ``OPENAPI_SCHEMAS``
(name -> JSON schema, referenced as ``{"$ref": "#/components/schemas/<name>"}``).
:func:`build_document` finds every ``vaxel/http/*_routes.py`` module and merges them, so a new
area only adds those two names to its own module. Routes of modules this file cannot edit
(health, call log) are described here. ``tests/http`` checks that the document and the
app's routes list the same operations.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from vaxel import __version__

routes = web.RouteTableDef()

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def query_param(name: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": dict(schema),
    }


def operation(
    summary: str,
    *,
    tag: str,
    ok: Mapping[str, Any] | None = None,
    ok_description: str = "OK",
    ok_status: int = 200,
    ok_content_type: str = "application/json",
    params: Iterable[Mapping[str, Any]] = (),
    body: Mapping[str, Any] | None = None,
    body_required: bool = False,
    body_content_type: str = "application/json",
    errors: Mapping[int, str] | None = None,
    public: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """One operation: its success response ``ok`` (a JSON schema), an optional body and the
    error statuses it uses (401/403 are added unless ``public``)."""
    op: dict[str, Any] = {"summary": summary, "tags": [tag]}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = [dict(p) for p in params]
    if body is not None:
        op["requestBody"] = {
            "required": body_required,
            "content": {body_content_type: {"schema": dict(body)}},
        }
    responses: dict[str, Any] = {str(ok_status): {"description": ok_description}}
    if ok is not None:
        responses[str(ok_status)]["content"] = {ok_content_type: {"schema": dict(ok)}}
    all_errors = dict(errors or {})
    if not public:
        all_errors.setdefault(401, "no token given, or the session expired")
        all_errors.setdefault(
            403, "the token is not valid, or its user may not do this (the message says why)"
        )
    for status, text in sorted(all_errors.items()):
        responses[str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": ERROR_REF}},
        }
    op["responses"] = responses
    if public:
        op["security"] = []
    return op


# ------------------------------------------------------------------ routes described here

_TIME_RANGE = [
    query_param("since", "ISO 8601 time, inclusive", {"type": "string", "format": "date-time"}),
    query_param("until", "ISO 8601 time, exclusive", {"type": "string", "format": "date-time"}),
    query_param("queue", "only this queue", {"type": "string"}),
    query_param("agent", "only this agent", {"type": "string"}),
]
_LIMIT = query_param(
    "limit",
    "at most this many rows (1-10000, default 1000)",
    {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000},
)

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string", "description": "what is wrong, for a person"},
                },
            }
        },
    },
    "CallLogEvent": {
        "type": "object",
        "description": "One step of a call (arrived, queued, offered, answered, ended ...).",
        "properties": {
            "call_id": {"type": "string"},
            "kind": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "queue": {"type": ["string", "null"]},
            "agent": {"type": ["string", "null"]},
            "a_number": {"type": ["string", "null"]},
            "b_number": {"type": ["string", "null"]},
            "data": {"type": "object"},
        },
    },
    "CallSummary": {
        "type": "object",
        "description": "One call as a row: times, queue, agent, outcome, waits, voice quality.",
        "properties": {
            "call_id": {"type": "string"},
            "started_at": {"type": "string", "format": "date-time"},
            "ended_at": {"type": "string", "format": "date-time"},
            "outcome": {"type": "string"},
            "a_number": {"type": ["string", "null"]},
            "b_number": {"type": ["string", "null"]},
            "queue": {"type": ["string", "null"]},
            "agent": {"type": ["string", "null"]},
            "wait_seconds": {"type": ["number", "null"]},
            "talk_seconds": {"type": ["number", "null"]},
            "mos": {
                "type": ["number", "null"],
                "description": "E-model MOS (ITU-T G.107) of the call: its worst leg's "
                "whole-call MOS; null when no RTP was received (docs/mos.md)",
            },
            "quality": {
                "oneOf": [ref("CallQuality"), {"type": "null"}],
                "description": "per-leg figures behind the MOS",
            },
        },
        "additionalProperties": True,
    },
    "CallQuality": {
        "type": "object",
        "properties": {
            "legs": {
                "type": "object",
                "description": "by leg name: caller, agent",
                "additionalProperties": ref("LegQuality"),
            },
            "interval_s": {"type": "number", "description": "seconds between interval MOS"},
            "warn_below": {"type": "number", "description": "warning threshold (MOS)"},
        },
    },
    "LegQuality": {
        "type": "object",
        "description": "What Vaxel received on one leg, and the E-model estimate from it.",
        "properties": {
            "codec": {"type": "string", "description": "G.113 planning entry used"},
            "mos": {"type": ["number", "null"]},
            "r": {"type": ["number", "null"], "description": "E-model rating R"},
            "loss_pct": {
                "type": "number",
                "description": "lost + discarded by the playout buffer, percent",
            },
            "rfc3550_loss_pct": {"type": "number"},
            "max_jitter_ms": {"type": "number"},
            "avg_jitter_ms": {"type": "number"},
            "rtt_ms": {"type": ["number", "null"], "description": "from RTCP, latest"},
            "avg_rtt_ms": {"type": ["number", "null"]},
            "burst_ratio": {"type": "number", "description": "G.107 BurstR, 1 = random"},
            "packets_expected": {"type": "integer"},
            "packets_received": {"type": "integer"},
            "packets_lost": {"type": "integer"},
            "packets_discarded": {"type": "integer"},
            "duplicates": {"type": "integer"},
            "reordered": {"type": "integer"},
            "intervals": {"type": "integer"},
            "min_interval_mos": {"type": ["number", "null"]},
            "warnings": {"type": "integer"},
            "interval_mos": {
                "type": "array",
                "description": "[seconds since the leg started, MOS] per interval",
                "items": {"type": "array", "items": {"type": "number"}},
            },
            "far_end": {
                "type": ["object", "null"],
                "description": "the peer's RTCP about the stream Vaxel sends on this leg: "
                "loss_pct, cumulative_lost, jitter_ms, rtt_ms, xr (its RTCP XR VoIP metrics: "
                "loss_pct, discard_pct, burst_density, round_trip_delay_ms, "
                "end_system_delay_ms, r_factor, mos_lq, mos_cq; null if none); null when "
                "the peer sent no report",
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/health": {
        "get": operation(
            "Liveness, version, uptime and resource-pressure counters",
            tag="server",
            public=True,
            ok={
                "type": "object",
                "properties": {
                    "status": {"const": "ok"},
                    "version": {"type": "string"},
                    "uptime_seconds": {"type": "number"},
                    "name": {"type": "string"},
                    "rtp_ports": {
                        "type": "object",
                        "description": "RTP/RTCP port pairs: in the range, in use, and how "
                        "often a call found none free since the start (answered 503)",
                        "properties": {
                            "pairs": {"type": "integer"},
                            "in_use": {"type": "integer"},
                            "allocation_failures": {"type": "integer"},
                        },
                    },
                    "sip_connections": {
                        "type": "object",
                        "description": "SIP over TCP and TLS: accepted connections open, "
                        "connections refused (caps, out of descriptors) and failed TLS "
                        "handshakes since the start",
                        "properties": {
                            "open": {"type": "integer"},
                            "refused": {"type": "integer"},
                            "tls_handshake_failures": {"type": "integer"},
                        },
                    },
                },
            },
        )
    },
    "/api/openapi.json": {
        "get": operation(
            "This document (OpenAPI 3.1)", tag="server", public=True, ok={"type": "object"}
        )
    },
    "/api/calllog/events": {
        "get": operation(
            "Call-log events by time range, queue, agent or call",
            tag="call log",
            params=[
                *_TIME_RANGE,
                query_param("call_id", "only this call", {"type": "string"}),
                _LIMIT,
            ],
            ok={
                "type": "object",
                "properties": {"events": {"type": "array", "items": ref("CallLogEvent")}},
            },
            errors={400: "a query parameter is malformed (the message names it)"},
        )
    },
    "/api/calllog/calls": {
        "get": operation(
            "Finished calls, one row per call",
            tag="call log",
            params=[*_TIME_RANGE, _LIMIT],
            ok={
                "type": "object",
                "properties": {"calls": {"type": "array", "items": ref("CallSummary")}},
            },
            errors={400: "a query parameter is malformed (the message names it)"},
        )
    },
}


# Areas whose modules do not (yet) describe themselves. A module's own OPENAPI_PATHS win
# over these, so moving a description into its module needs no edit here.
_OBJ = {"type": "object"}
_PROMPT = path_param("name", "prompt short name")
_QUEUE = path_param("queue", "queue id")
_SLOT = path_param("slot", "prompt slot of the queue, e.g. welcome")
_HOT_BODY = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "queue": {"type": "string", "description": 'queue id, or "*" for every queue'},
        "until": {"type": ["string", "null"], "format": "date-time"},
    },
}
FALLBACK_PATHS: dict[str, Any] = {
    "/api/prompts": {
        "get": operation(
            "Prompts: stored and standard ones",
            tag="prompts",
            params=[query_param("stored", "1: only uploaded prompts", {"type": "string"})],
            ok=_OBJ,
        ),
        "post": operation(
            "Upload a prompt (WAV, AU or raw GSM, at most 5 MB; stored as 8 kHz mono)",
            tag="prompts",
            body={
                "type": "object",
                "required": ["file", "name"],
                "properties": {
                    "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "name": {"type": "string"},
                },
            },
            body_required=True,
            body_content_type="multipart/form-data",
            ok=_OBJ,
            ok_status=201,
            ok_description="stored",
            errors={400: "invalid upload (the message says why)", 413: "file too large"},
        ),
    },
    "/api/prompts/{name}": {
        "get": operation(
            "One prompt", tag="prompts", params=[_PROMPT], ok=_OBJ, errors={404: "unknown"}
        ),
        "delete": operation(
            "Delete a stored prompt (refused while in use)",
            tag="prompts",
            params=[_PROMPT],
            ok=_OBJ,
            errors={
                404: "unknown prompt",
                409: "the prompt is in use (a queue slot, a hot prompt, the configuration)",
            },
        ),
    },
    "/api/prompts/{name}/audio": {
        "get": operation(
            "The prompt's audio (WAV)",
            tag="prompts",
            params=[_PROMPT],
            ok={"type": "string", "contentMediaType": "audio/wav"},
            ok_content_type="audio/wav",
            errors={404: "unknown prompt or no audio"},
        )
    },
    "/api/queues/{queue}/prompts": {
        "get": operation(
            "A queue's prompt slots and the prompt active in each",
            tag="prompts",
            params=[_QUEUE],
            ok=_OBJ,
            errors={404: "unknown queue"},
        )
    },
    "/api/queues/{queue}/prompts/{slot}": {
        "put": operation(
            "Use a prompt in a slot of the queue",
            tag="prompts",
            params=[_QUEUE, _SLOT],
            body={"type": "object", "required": ["prompt"], "properties": {"prompt": {}}},
            body_required=True,
            ok=_OBJ,
            errors={400: "unknown prompt or bad body", 404: "unknown queue or slot"},
        ),
        "delete": operation(
            "Back to the standard prompt in this slot",
            tag="prompts",
            params=[_QUEUE, _SLOT],
            ok=_OBJ,
            errors={404: "unknown queue or slot"},
        ),
    },
    "/api/hot-prompts": {
        "get": operation("Hot prompts", tag="prompts", ok=_OBJ),
        "post": operation(
            "Activate a hot prompt (played first to every caller of the queue)",
            tag="prompts",
            body=_HOT_BODY,
            body_required=True,
            ok=_OBJ,
            ok_status=201,
            ok_description="activated",
            errors={400: "unknown prompt or bad body", 422: "until is in the past"},
        ),
        "delete": operation(
            "Deactivate a hot prompt",
            tag="prompts",
            body=_HOT_BODY,
            body_required=True,
            ok=_OBJ,
            errors={400: "bad body", 404: "no such hot prompt"},
        ),
    },
    "/api/calendars": {
        "get": operation("Calendars and the calendar of each queue", tag="calendars", ok=_OBJ)
    },
    "/api/calendars/{id}/status": {
        "get": operation(
            "Open or closed at a time, and why (the rule that decided)",
            tag="calendars",
            params=[
                path_param("id", "calendar id, or a queue id (its calendar)"),
                query_param(
                    "at", "ISO 8601 time (default: now)", {"type": "string", "format": "date-time"}
                ),
            ],
            ok=_OBJ,
            errors={400: "malformed time", 404: "unknown calendar"},
        )
    },
}


# ------------------------------------------------------------------ the document


def _route_modules() -> list[Any]:
    package = importlib.import_module("vaxel.http")
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
    return [importlib.import_module(f"vaxel.http.{n}") for n in names if n.endswith("_routes")]


def build_document(sources: Iterable[Any] | None = None) -> dict[str, Any]:
    """Merge this module's and every route module's paths and schemas into one document."""
    modules = [sys.modules[__name__], *(_route_modules() if sources is None else sources)]
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for module in modules:
        for path, methods in getattr(module, "OPENAPI_PATHS", {}).items():
            target = paths.setdefault(path, {})
            for method, op in methods.items():
                if method in target:
                    raise ValueError(f"OpenAPI: {method.upper()} {path} is described twice")
                target[method] = op
        for name, schema in getattr(module, "OPENAPI_SCHEMAS", {}).items():
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"OpenAPI: schema {name!r} is defined twice, differently")
            schemas[name] = schema
    for path, methods in FALLBACK_PATHS.items():
        target = paths.setdefault(path, {})
        for method, op in methods.items():
            target.setdefault(method, op)
    _annotate_permissions(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vaxel API",
            "version": __version__,
            "description": "Call-center server: agents, queues, live calls, call log, events. "
            "Send `Authorization: Bearer <token>`: a session token from `POST /api/login`, "
            "a user's API token, or one of `api.tokens` (acts as an admin); "
            "the WebSocket may pass `?token=` instead. `x-permission` names what each "
            "operation needs (docs/access.md: which roles have it). Errors are "
            '`{"error": {"status", "message"}}`.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(schemas.items())),
        },
    }


def _annotate_permissions(paths: dict[str, dict[str, Any]]) -> None:
    """Each protected operation says which permission it needs (docs/access.md)."""
    from .permissions import rule_for

    for path, methods in paths.items():
        for method, op in methods.items():
            action = rule_for(method.upper(), path)
            if action is not None:
                methods[method] = {**op, "x-permission": action.value}


_CACHE: dict[str, Any] = {}


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    if "doc" not in _CACHE:
        _CACHE["doc"] = build_document()
    return web.json_response(_CACHE["doc"])
