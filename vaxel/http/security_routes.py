"""Bans and authentication lockouts of the SIP front door (docs/security.md).

The guard in the SIP stack keeps them; these routes only ask the call stack.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from aiohttp import web

from .agents_routes import call_stack, iso
from .auth import actor_of
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, ref

routes = web.RouteTableDef()


@routes.get("/api/security/bans")
async def list_bans(request: web.Request) -> web.Response:
    stack = call_stack(request)
    bans = [
        {**ban, "since": iso(ban["since"]), "until": iso(ban["until"])}  # type: ignore[arg-type]
        for ban in stack.security_bans()
    ]
    locks = [{**lock, "until": iso(lock["until"])} for lock in stack.security_locks()]  # type: ignore[arg-type]
    return web.json_response({"bans": bans, "locks": locks})


@routes.delete("/api/security/bans/{address}")
async def remove_ban(request: web.Request) -> web.Response:
    address = request.match_info["address"]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ApiError(400, f"expected an IP address, got {address[:60]!r}") from None
    if not call_stack(request).remove_ban(address):
        raise ApiError(404, f"{address} is neither banned nor locked")
    await server_of(request).audit.record(actor_of(request), "security.unbanned", address)
    return web.json_response({"address": address, "removed": True})


# ---------------------------------------------------------------------- OpenAPI

_TIME = {"type": "string", "format": "date-time"}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Ban": {
        "type": "object",
        "properties": {
            "address": {"type": "string"},
            "reason": {"type": "string", "description": "what earned the ban"},
            "since": _TIME,
            "until": _TIME,
            "remaining_seconds": {"type": "number"},
            "count": {"type": "integer", "description": "bans of this address (back-off step)"},
        },
    },
    "AuthLock": {
        "type": "object",
        "properties": {
            "kind": {"enum": ["user", "source"]},
            "key": {"type": "string", "description": "the user name or the source address"},
            "until": _TIME,
            "remaining_seconds": {"type": "number"},
            "failures": {"type": "integer"},
            "step": {"type": "integer", "description": "1 for a first lock; each next doubles"},
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/security/bans": {
        "get": operation(
            "Banned source addresses and authentication lockouts in force",
            tag="security",
            ok={
                "type": "object",
                "properties": {
                    "bans": {"type": "array", "items": ref("Ban")},
                    "locks": {"type": "array", "items": ref("AuthLock")},
                },
            },
            errors={503: "call handling is not running yet"},
        )
    },
    "/api/security/bans/{address}": {
        "delete": operation(
            "Lift an address's ban and its authentication lockout (audited)",
            tag="security",
            params=[path_param("address", "the banned IP address")],
            ok={
                "type": "object",
                "properties": {"address": {"type": "string"}, "removed": {"type": "boolean"}},
            },
            errors={
                400: "not an IP address",
                404: "the address is neither banned nor locked",
                503: "call handling is not running yet",
            },
        )
    },
}
