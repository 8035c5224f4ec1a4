"""Signing in and out, who am I, and the caller's own API tokens (docs/access.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from access import Principal
from vaxel.services.users import CONFIG_TOKEN_USER

from .agents_routes import optional_str
from .auth import TOKEN, actor_of, principal_of
from .body import int_id, json_object
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, ref

routes = web.RouteTableDef()


def _principal_json(principal: Principal) -> dict[str, Any]:
    return {
        "name": principal.name,
        "role": principal.role.value,
        "agent": principal.agent,
        "statistics": "statistics" in principal.grants,
        "permissions": sorted(a.value for a in principal.grants),
    }


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    body = await json_object(request, frozenset({"user", "password"}))
    user = optional_str(body, "user")
    password = body.get("password")
    if user is None:
        raise ApiError(400, "field 'user': required (the user name)")
    if not isinstance(password, str) or not password:
        raise ApiError(400, "field 'password': required")
    session = await server_of(request).users.login(user, password, actor_of(request))
    return web.json_response(
        {
            "token": session.token,
            "expires_at": datetime.fromtimestamp(session.expires_at, UTC).isoformat(),
            "user": _principal_json(session.principal),
        }
    )


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.Response:
    ended = await server_of(request).users.logout(request[TOKEN])
    return web.json_response({"logged_out": ended})


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    principal = principal_of(request)
    out = _principal_json(principal)
    if principal.name != CONFIG_TOKEN_USER:
        out = await server_of(request).users.user(principal.name)
    return web.json_response({"user": out})


def _own_name(request: web.Request) -> str:
    principal = principal_of(request)
    if principal.name == CONFIG_TOKEN_USER:
        raise ApiError(
            409, "a token from [api] tokens belongs to no user: sign in as a user for own tokens"
        )
    return principal.name


@routes.get("/api/me/tokens")
async def my_tokens(request: web.Request) -> web.Response:
    tokens = await server_of(request).users.tokens(_own_name(request))
    return web.json_response({"tokens": tokens})


@routes.post("/api/me/tokens")
async def new_token(request: web.Request) -> web.Response:
    body = await json_object(request, frozenset({"label", "scope"}))
    label = optional_str(body, "label") or "api token"
    created = await server_of(request).users.create_token(
        actor_of(request), _own_name(request), label, optional_str(body, "scope")
    )
    return web.json_response({"token": created}, status=201)


def token_id(request: web.Request) -> int:
    return int_id(request.match_info["token_id"], "API token")


@routes.delete("/api/me/tokens/{token_id}")
async def revoke_token(request: web.Request) -> web.Response:
    await server_of(request).users.revoke_token(
        actor_of(request), _own_name(request), token_id(request)
    )
    return web.json_response({"revoked": True})


# ---------------------------------------------------------------------- OpenAPI

TOKEN_PARAM = path_param("token_id", "the token's id (from the token list)")
OPENAPI_SCHEMAS: dict[str, Any] = {
    "User": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "role": {"enum": ["admin", "manager", "agent"]},
            "agent": {"type": ["string", "null"], "description": "agent id the user works as"},
            "email": {"type": ["string", "null"]},
            "statistics": {"type": "boolean", "description": "may read statistics"},
            "permissions": {"type": "array", "items": {"type": "string"}},
            "locked": {"type": "boolean"},
            "locked_until": {"type": ["string", "null"], "format": "date-time"},
            "failed_logins": {"type": "integer", "description": "wrong passwords in a row"},
            "ssh_keys": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "ApiToken": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string"},
            "scope": {
                "type": ["string", "null"],
                "description": "absence: may only set absence notes (docs/access.md)",
            },
            "created_at": {"type": "string", "format": "date-time"},
            "token": {"type": "string", "description": "only in the answer that creates it"},
        },
    },
}
_TOKENS = {"type": "object", "properties": {"tokens": {"type": "array", "items": ref("ApiToken")}}}
_LABEL = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "label": {"type": "string", "description": "what the token is for"},
        "scope": {"enum": ["absence", None], "description": "absence: only absence notes"},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/login": {
        "post": operation(
            "Sign in with a password: returns a session token that expires",
            tag="access",
            public=True,
            description="Five wrong passwords in a row lock the account for a while "
            "(`api.lockout_failures`, `api.lockout_seconds`); a locked account answers 423 "
            "even to the right password until the lock runs out or an admin unlocks it.",
            body={
                "type": "object",
                "required": ["user", "password"],
                "additionalProperties": False,
                "properties": {"user": {"type": "string"}, "password": {"type": "string"}},
            },
            body_required=True,
            ok={
                "type": "object",
                "properties": {
                    "token": {"type": "string", "description": "send as Bearer token"},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "user": ref("User"),
                },
            },
            errors={
                400: "invalid body (the message names the field)",
                401: "wrong user name or password",
                423: "the account is locked (the message says until when)",
            },
        )
    },
    "/api/logout": {
        "post": operation(
            "End the session of the token sent",
            tag="access",
            ok={"type": "object", "properties": {"logged_out": {"type": "boolean"}}},
        )
    },
    "/api/me": {
        "get": operation(
            "Who the token belongs to: user, role, agent id, permissions",
            tag="access",
            ok={"type": "object", "properties": {"user": ref("User")}},
        )
    },
    "/api/me/tokens": {
        "get": operation("Own API tokens (without their secret)", tag="access", ok=_TOKENS),
        "post": operation(
            "A new API token for automation (acts as this user; shown once)",
            tag="access",
            body=_LABEL,
            ok={"type": "object", "properties": {"token": ref("ApiToken")}},
            ok_status=201,
            ok_description="created",
            errors={409: "a configured [api] token belongs to no user"},
        ),
    },
    "/api/me/tokens/{token_id}": {
        "delete": operation(
            "Revoke an own API token",
            tag="access",
            params=[TOKEN_PARAM],
            ok={"type": "object"},
            errors={404: "no such token", 409: "a configured [api] token belongs to no user"},
        )
    },
}
