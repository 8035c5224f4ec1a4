"""Bearer-token authentication for the API (tokens from config ``api.tokens``)."""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import json_error

# Paths anyone may read: liveness checks and the API description.
PUBLIC_PATHS = frozenset({"/api/health", "/api/openapi.json"})


def token_middleware(tokens: list[str]) -> Middleware:
    encoded = [t.encode() for t in tokens]

    def valid(candidate: str) -> bool:
        given = candidate.encode()
        # Compare against every token so timing does not reveal which prefix matched.
        return any([hmac.compare_digest(given, t) for t in encoded])

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS or not request.path.startswith("/api/"):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        # WebSocket clients in browsers cannot set headers: allow ?token= as well.
        token = token or request.query.get("token", "")
        if not token:
            return json_error(401, "missing API token (Authorization: Bearer <token>)")
        if not valid(token):
            return json_error(403, "invalid API token")
        return await handler(request)

    return middleware
