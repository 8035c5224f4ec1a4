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
    params: Iterable[Mapping[str, Any]] = (),
    body: Mapping[str, Any] | None = None,
    body_required: bool = False,
    errors: Mapping[int, str] | None = None,
    public: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """One operation: a JSON 200 response ``ok``, a JSON body and the error statuses it uses."""
    op: dict[str, Any] = {"summary": summary, "tags": [tag]}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = [dict(p) for p in params]
    if body is not None:
        op["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": dict(body)}},
        }
    responses: dict[str, Any] = {"200": {"description": ok_description}}
    if ok is not None:
        responses["200"]["content"] = {"application/json": {"schema": dict(ok)}}
    all_errors = dict(errors or {})
    if not public:
        all_errors.setdefault(401, "no API token given")
        all_errors.setdefault(403, "the API token is not valid")
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
        "description": "One call as a row: times, queue, agent, outcome, waits.",
        "properties": {
            "call_id": {"type": "string"},
            "started_at": {"type": "string", "format": "date-time"},
            "ended_at": {"type": "string", "format": "date-time"},
        },
        "additionalProperties": True,
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/health": {
        "get": operation(
            "Liveness, version and uptime",
            tag="server",
            public=True,
            ok={
                "type": "object",
                "properties": {
                    "status": {"const": "ok"},
                    "version": {"type": "string"},
                    "uptime_seconds": {"type": "number"},
                    "name": {"type": "string"},
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
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vaxel API",
            "version": __version__,
            "description": "Call-center server: agents, queues, live calls, call log, events. "
            "Send `Authorization: Bearer <token>` (a token from `api.tokens`); "
            "the WebSocket may pass `?token=` instead. Errors are "
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


_CACHE: dict[str, Any] = {}


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    if "doc" not in _CACHE:
        _CACHE["doc"] = build_document()
    return web.json_response(_CACHE["doc"])
