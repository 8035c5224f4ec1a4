"""GET /api/audit: the audit trail, newest first (admins and managers)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .context import server_of
from .openapi import operation, query_param, ref
from .params import int_param, iso_time

routes = web.RouteTableDef()


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.Response:
    entries = await server_of(request).audit.entries(
        since=iso_time(request, "since"),
        until=iso_time(request, "until"),
        actor=request.query.get("actor"),
        action=request.query.get("action"),
        target=request.query.get("target"),
        limit=int_param(request, "limit", 1000, 1, 10000),
    )
    return web.json_response({"entries": [e.to_json() for e in entries]})


OPENAPI_SCHEMAS: dict[str, Any] = {
    "AuditEntry": {
        "type": "object",
        "description": "One administrative change.",
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string", "description": "user name (api-token: [api] tokens)"},
            "role": {"type": ["string", "null"]},
            "via": {"enum": ["api", "ssh", "web"]},
            "source": {"type": ["string", "null"], "description": "client address"},
            "action": {"type": "string", "description": "e.g. agent.login, user.created"},
            "target": {"type": ["string", "null"]},
            "before": {"description": "the state before (null: nothing before)"},
            "after": {"description": "the state after (null: nothing after)"},
        },
    }
}

_TIME = {"type": "string", "format": "date-time"}
OPENAPI_PATHS: dict[str, Any] = {
    "/api/audit": {
        "get": operation(
            "The audit trail, newest first",
            tag="access",
            params=[
                query_param(
                    "since", "ISO 8601 time, inclusive", {"type": "string", "format": "date-time"}
                ),
                query_param(
                    "until", "ISO 8601 time, exclusive", {"type": "string", "format": "date-time"}
                ),
                query_param("actor", "only this user", {"type": "string"}),
                query_param("action", "only this action, e.g. agent.pause", {"type": "string"}),
                query_param("target", 'only this target, e.g. "agent 1001"', {"type": "string"}),
                query_param(
                    "limit",
                    "at most this many (1-10000, default 1000)",
                    {"type": "integer", "minimum": 1, "maximum": 10000},
                ),
            ],
            ok={
                "type": "object",
                "properties": {"entries": {"type": "array", "items": ref("AuditEntry")}},
            },
            errors={400: "a query parameter is malformed (the message names it)"},
        )
    }
}
