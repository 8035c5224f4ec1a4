"""User administration (admins only): users, roles, passwords, locks and API tokens."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .agents_routes import optional_str
from .auth import actor_of
from .auth_routes import TOKEN_PARAM, token_id
from .body import json_object
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, ref

routes = web.RouteTableDef()

_FIELDS = frozenset({"role", "password", "agent", "email", "statistics", "ssh_keys"})


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    return web.json_response({"users": await server_of(request).users.users()})


@routes.post("/api/users")
async def create_user(request: web.Request) -> web.Response:
    body = await json_object(request, _FIELDS | {"name"})
    name = optional_str(body, "name")
    if name is None:
        raise ApiError(400, "field 'name': required (the user name to sign in with)")
    if not all(c.isalnum() or c in "_.-" for c in name) or len(name) > 64:
        raise ApiError(
            400, f"field 'name': letters, digits, '_', '.', '-' (at most 64), got {name!r}"
        )
    fields = {k: v for k, v in body.items() if k != "name"}
    user = await server_of(request).users.create_user(actor_of(request), name, fields)
    return web.json_response({"user": user}, status=201)


@routes.get("/api/users/{name}")
async def get_user(request: web.Request) -> web.Response:
    user = await server_of(request).users.user(request.match_info["name"])
    return web.json_response({"user": user})


@routes.patch("/api/users/{name}")
async def change_user(request: web.Request) -> web.Response:
    body = await json_object(request, _FIELDS)
    user = await server_of(request).users.update_user(
        actor_of(request), request.match_info["name"], body
    )
    return web.json_response({"user": user})


@routes.delete("/api/users/{name}")
async def delete_user(request: web.Request) -> web.Response:
    await server_of(request).users.delete_user(actor_of(request), request.match_info["name"])
    return web.json_response({"deleted": True})


@routes.post("/api/users/{name}/unlock")
async def unlock_user(request: web.Request) -> web.Response:
    user = await server_of(request).users.unlock(actor_of(request), request.match_info["name"])
    return web.json_response({"user": user})


@routes.get("/api/users/{name}/tokens")
async def user_tokens(request: web.Request) -> web.Response:
    tokens = await server_of(request).users.tokens(request.match_info["name"])
    return web.json_response({"tokens": tokens})


@routes.post("/api/users/{name}/tokens")
async def new_user_token(request: web.Request) -> web.Response:
    body = await json_object(request, frozenset({"label", "scope"}))
    created = await server_of(request).users.create_token(
        actor_of(request),
        request.match_info["name"],
        optional_str(body, "label") or "api token",
        optional_str(body, "scope"),
    )
    return web.json_response({"token": created}, status=201)


@routes.delete("/api/users/{name}/tokens/{token_id}")
async def revoke_user_token(request: web.Request) -> web.Response:
    await server_of(request).users.revoke_token(
        actor_of(request), request.match_info["name"], token_id(request)
    )
    return web.json_response({"revoked": True})


# ---------------------------------------------------------------------- OpenAPI

_NAME = path_param("name", "the user name")
_ONE = {"type": "object", "properties": {"user": ref("User")}}
_BODY_PROPS: dict[str, Any] = {
    "role": {"enum": ["admin", "manager", "agent"]},
    "password": {"type": "string", "minLength": 8},
    "agent": {"type": ["string", "null"], "description": "required for role agent"},
    "email": {"type": ["string", "null"]},
    "statistics": {
        "type": ["boolean", "null"],
        "description": "grant (true) or withhold (false) statistics; null: the role's default",
    },
    "ssh_keys": {
        "type": "array",
        "items": {"type": "string"},
        "description": "OpenSSH public key lines that may sign in to the console as this "
        "user (the whole list; applies at the next sign-in)",
    },
}
_TOKENS = {"type": "object", "properties": {"tokens": {"type": "array", "items": ref("ApiToken")}}}
_ERR = {400: "invalid body (the message names the field)", 404: "unknown user"}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/users": {
        "get": operation(
            "All users (admins only)",
            tag="users",
            ok={"type": "object", "properties": {"users": {"type": "array", "items": ref("User")}}},
        ),
        "post": operation(
            "Create a user (audited)",
            tag="users",
            body={
                "type": "object",
                "required": ["name", "role", "password"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string"}, **_BODY_PROPS},
            },
            body_required=True,
            ok=_ONE,
            ok_status=201,
            ok_description="created",
            errors={400: _ERR[400], 409: "the user exists, or the agent has a user already"},
        ),
    },
    "/api/users/{name}": {
        "get": operation("One user", tag="users", params=[_NAME], ok=_ONE, errors={404: _ERR[404]}),
        "patch": operation(
            "Change role, password, agent, email, statistics or SSH keys (audited)",
            tag="users",
            params=[_NAME],
            body={"type": "object", "additionalProperties": False, "properties": _BODY_PROPS},
            body_required=True,
            ok=_ONE,
            errors={**_ERR, 409: "the agent has a user already"},
        ),
        "delete": operation(
            "Delete a user and its tokens (audited; not yourself)",
            tag="users",
            params=[_NAME],
            ok={"type": "object"},
            errors={404: _ERR[404]},
        ),
    },
    "/api/users/{name}/unlock": {
        "post": operation(
            "Lift a lock after wrong passwords (audited)",
            tag="users",
            params=[_NAME],
            ok=_ONE,
            errors={404: _ERR[404]},
        )
    },
    "/api/users/{name}/tokens": {
        "get": operation(
            "A user's API tokens", tag="users", params=[_NAME], ok=_TOKENS, errors={404: _ERR[404]}
        ),
        "post": operation(
            "A new API token for a user (shown once; audited)",
            tag="users",
            params=[_NAME],
            body={
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "scope": {
                        "enum": ["absence", None],
                        "description": "absence: the token may only set absence notes",
                    },
                },
            },
            ok={"type": "object", "properties": {"token": ref("ApiToken")}},
            ok_status=201,
            ok_description="created",
            errors={404: _ERR[404]},
        ),
    },
    "/api/users/{name}/tokens/{token_id}": {
        "delete": operation(
            "Revoke a user's API token (audited)",
            tag="users",
            params=[_NAME, TOKEN_PARAM],
            ok={"type": "object"},
            errors={404: "unknown user or token"},
        )
    },
}
