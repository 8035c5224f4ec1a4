"""Administration at run time (admins): agents, queues, numbers, answer groups, calendars
(and their deviations), classification profiles and pause reasons.

``/api/config/{kind}/{key}``: GET gives the document and its ETag; PUT creates or replaces,
PATCH merges (RFC 7386), DELETE removes. Changing or deleting an existing entity needs
``If-Match`` with the ETag from GET: a stale one is 412, none is 428. A refusal names the
field and the reason (the same messages as the configuration file).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from config import MANAGED
from vaxel.services.administration import MODELS

from .auth import actor_of
from .body import read_json, shown
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, ref

routes = web.RouteTableDef()

_ITEM = "/api/config/{kind}/{key}"


def _kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in MANAGED:
        raise ApiError(404, f"unknown kind {shown(kind)} (one of {', '.join(MANAGED)})")
    return kind


def _with_etag(body: dict[str, Any], tag: str, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, headers={"ETag": tag})


@routes.get("/api/config/{kind}")
async def list_kind(request: web.Request) -> web.Response:
    kind = _kind(request)
    return web.json_response({"kind": kind, "items": server_of(request).admin.list(kind)})


@routes.get(_ITEM)
async def get_item(request: web.Request) -> web.Response:
    kind = _kind(request)
    doc, tag = server_of(request).admin.get(kind, request.match_info["key"])
    return _with_etag({"kind": kind, "key": request.match_info["key"], "document": doc}, tag)


async def _change(request: web.Request, *, patch: bool) -> web.Response:
    kind = _kind(request)
    key = request.match_info["key"]
    body = await read_json(request)
    if body is None:
        raise ApiError(400, "request body: expected a JSON object (the entity's fields)")
    doc, tag, created = await server_of(request).admin.put(
        actor_of(request), kind, key, body, request.headers.get("If-Match"), via_patch=patch
    )
    return _with_etag({"kind": kind, "key": key, "document": doc}, tag, 201 if created else 200)


@routes.put(_ITEM)
async def put_item(request: web.Request) -> web.Response:
    return await _change(request, patch=False)


@routes.patch(_ITEM)
async def patch_item(request: web.Request) -> web.Response:
    return await _change(request, patch=True)


@routes.delete(_ITEM)
async def delete_item(request: web.Request) -> web.Response:
    kind = _kind(request)
    key = request.match_info["key"]
    await server_of(request).admin.delete(
        actor_of(request), kind, key, request.headers.get("If-Match")
    )
    return web.json_response({"deleted": f"{kind}/{key}"})


@routes.post("/api/calendars/{id}/deviations")
async def add_deviation(request: web.Request) -> web.Response:
    calendar = request.match_info["id"]
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "request body: expected a JSON object (the deviation)")
    index, deviation, tag = await server_of(request).admin.add_deviation(
        actor_of(request), calendar, body, request.headers.get("If-Match")
    )
    return _with_etag(
        {"calendar": calendar, "index": index, "deviation": deviation}, tag, status=201
    )


@routes.delete("/api/calendars/{id}/deviations/{index}")
async def remove_deviation(request: web.Request) -> web.Response:
    calendar = request.match_info["id"]
    raw = request.match_info["index"]
    if not raw.isdigit() or len(raw) > 6:
        raise ApiError(404, f"no deviation {shown(raw)} (deviations are numbered from 0)")
    tag = await server_of(request).admin.remove_deviation(
        actor_of(request), calendar, int(raw), request.headers.get("If-Match")
    )
    return _with_etag({"calendar": calendar, "deleted": int(raw)}, tag)


# ------------------------------------------------------------------ OpenAPI


OPENAPI_SCHEMAS: dict[str, Any] = {}


def _schema(kind: str) -> dict[str, Any]:
    """The kind's model as a JSON schema under components (its nested models beside it)."""
    name = "Config" + "".join(part.title() for part in kind.split("_"))
    try:
        schema = MODELS[kind].model_json_schema(ref_template="#/components/schemas/{model}")
    except Exception:  # calendars hold types pydantic cannot describe: see docs/calendars.md
        schema = {"type": "object", "description": "see docs/calendars.md"}
    OPENAPI_SCHEMAS.update(schema.pop("$defs", {}))
    OPENAPI_SCHEMAS[name] = schema
    return ref(name)


_KIND = path_param("kind", f"one of {', '.join(MANAGED)}")
_KEY = path_param("key", "the entity's id (a queue id, an agent id, a dialled number ...)")
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "the ETag from GET; required to change or delete an existing entity",
    "schema": {"type": "string"},
}
_DOC = {
    "type": "object",
    "properties": {
        "kind": {"type": "string"},
        "key": {"type": "string"},
        "document": {
            "description": "the entity as its configuration model takes it",
            "oneOf": [_schema(k) for k in MANAGED],
        },
    },
}
_REFUSALS = {
    400: "a field is invalid or refers to something unknown (problems: field and reason)",
    404: "unknown kind or entity",
    409: "still in use: the message names the calls or agents",
    412: "If-Match does not match: someone changed it meanwhile",
    428: "If-Match is required to change or delete an existing entity",
}
_DEVIATION = {
    "type": "object",
    "description": "date or date_from/date_to, optional time HH:MM-HH:MM (none: all day), "
    "status open|closed, prompt {language: prompt name}, name (a note)",
    "required": ["status"],
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/config/{kind}": {
        "get": operation(
            "The administered entities of one kind, with their ETags",
            tag="configuration",
            params=[_KIND],
            ok={"type": "object"},
            errors={404: "unknown kind"},
        )
    },
    _ITEM: {
        "get": operation(
            "One entity (ETag header: its version)",
            tag="configuration",
            params=[_KIND, _KEY],
            ok=_DOC,
            errors={404: "unknown kind or entity"},
        ),
        "put": operation(
            "Create (201) or replace an entity; applies to the next call",
            tag="configuration",
            params=[_KIND, _KEY, _IF_MATCH],
            body={"type": "object"},
            body_required=True,
            ok=_DOC,
            errors=_REFUSALS,
        ),
        "patch": operation(
            "Change some fields (JSON merge patch: null removes a field)",
            tag="configuration",
            params=[_KIND, _KEY, _IF_MATCH],
            body={"type": "object"},
            body_required=True,
            ok=_DOC,
            errors=_REFUSALS,
        ),
        "delete": operation(
            "Delete an entity (refused while calls or logged-in agents use it)",
            tag="configuration",
            params=[_KIND, _KEY, _IF_MATCH],
            ok={"type": "object", "properties": {"deleted": {"type": "string"}}},
            errors=_REFUSALS,
        ),
    },
    "/api/calendars/{id}/deviations": {
        "post": operation(
            "Add a deviation to a calendar (e.g. closed for a meeting)",
            tag="configuration",
            params=[path_param("id", "calendar id (base or an own calendar)"), _IF_MATCH],
            body=_DEVIATION,
            body_required=True,
            ok={"type": "object"},
            ok_status=201,
            errors=_REFUSALS,
        )
    },
    "/api/calendars/{id}/deviations/{index}": {
        "delete": operation(
            "Remove a calendar's deviation by its position (from 0)",
            tag="configuration",
            params=[
                path_param("id", "calendar id"),
                path_param("index", "position of the deviation, from 0"),
                _IF_MATCH,
            ],
            ok={"type": "object"},
            errors=_REFUSALS,
        )
    },
}
