"""Authentication and permissions for the API.

A bearer token (``Authorization: Bearer <token>``; the WebSocket may pass ``?token=``) is
one of ``[api] tokens`` (acts as an admin), a session token from ``POST /api/login`` or a
user's API token. The endpoint's action (``permissions.RULES``) is then decided by
``access.decide``; a refusal is a 403 whose message says why.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from access import Principal, decide
from vaxel.services import Actor, ServiceError

from .context import server_of
from .errors import json_error
from .permissions import PUBLIC, rule_for

# Where the middleware leaves who is asking, and with what (aiohttp >= 3.14 typed keys).
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("vaxel_principal", Principal)
TOKEN: web.RequestKey[str] = web.RequestKey("vaxel_token", str)

_STATUS = {"unauthenticated": 401, "forbidden": 403}


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    # WebSocket clients in browsers cannot set headers: allow ?token= as well.
    return token or request.query.get("token", "")


def principal_of(request: web.Request) -> Principal:
    principal = request.get(PRINCIPAL)
    if not isinstance(principal, Principal):
        raise ServiceError("unauthenticated", "sign in first (POST /api/login)")
    return principal


def actor_of(request: web.Request) -> Actor:
    """Who sent this request (authenticated by the middleware), as the services see it."""
    principal = request.get(PRINCIPAL)
    return Actor(principal if isinstance(principal, Principal) else None, "api", request.remote)


def token_middleware() -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else None
        method = "GET" if request.method == "HEAD" else request.method
        if canonical is not None and (method, canonical) in PUBLIC:
            return await handler(request)
        token = bearer_token(request)
        if not token:
            return json_error(
                401,
                "missing API token (Authorization: Bearer <token>; people sign in with "
                "POST /api/login)",
            )
        try:
            principal = await server_of(request).users.resolve(token)
        except ServiceError as exc:
            return json_error(_STATUS.get(exc.kind, 403), exc.message)
        request[PRINCIPAL] = principal
        request[TOKEN] = token
        if canonical is None:  # no such route: the handler answers 404/405
            return await handler(request)
        action = rule_for(request.method, canonical)
        if action is None:
            return json_error(403, f"{request.method} {canonical} has no permission rule")
        verdict = decide(principal, action, target_agent=request.match_info.get("agent_id"))
        if not verdict:
            return json_error(403, verdict.reason, needs=action.value)
        return await handler(request)

    return middleware
