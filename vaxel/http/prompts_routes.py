"""Prompts API (SPEC S7): list/upload/delete prompts, queue slot activation, hot prompts.

Uploads are ``multipart/form-data`` with the audio in field ``file`` and the text fields
``name``, ``description``, ``wording``, ``language`` (and ``replace=true`` to overwrite).
The body is streamed and refused with 413 as soon as the file passes 5 MB.
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from prompts import ALL_QUEUES, MAX_PROMPT_BYTES, STANDARD_PROMPTS, PromptFileError, PromptTooLarge
from vaxel.services.prompts import PromptService
from vaxel.storage.database import sessionmaker
from vaxel.storage.prompt_store import (
    QUEUE_PROMPT_SLOTS,
    PromptActivations,
    PromptNameError,
    PromptStore,
)

from .auth import actor_of
from .body import read_json
from .context import server_of
from .errors import ApiError

routes = web.RouteTableDef()

STORE_KEY: web.AppKey[PromptStore] = web.AppKey("prompt_store")
ACTIVATIONS_KEY: web.AppKey[PromptActivations] = web.AppKey("prompt_activations")
_TEXT_FIELDS = ("name", "description", "wording", "language", "replace")
_DRAIN_LIMIT = 64 * 1024 * 1024  # read (and drop) this much of an oversized body before 413


def setup(app: web.Application) -> None:
    """Add the routes and, at start, the store plus the persisted activations."""
    app.add_routes(routes)
    app.on_startup.append(_on_startup)


async def _on_startup(app: web.Application) -> None:
    from .context import SERVER_KEY

    server = app[SERVER_KEY]
    sessions = sessionmaker(server.engine)  # the server owns the one engine
    # One store for the API and the phone (prompt recording): its lock keeps numbers unique.
    # The call stack loaded the activations and hot prompts when it started.
    calls = server.calls
    app[STORE_KEY] = (
        calls.prompt_store if calls else PromptStore(sessions, server.data_dir / "prompts")
    )
    app[ACTIVATIONS_KEY] = calls.activations if calls else PromptActivations(sessions)


def _store(request: web.Request) -> PromptStore:
    return request.app[STORE_KEY]


def _activations(request: web.Request) -> PromptActivations:
    return request.app[ACTIVATIONS_KEY]


def _calls(request: web.Request) -> Any:
    calls = server_of(request).calls
    if calls is None:
        raise ApiError(503, "the call stack is not running")
    return calls


# --------------------------------------------------------------------------- prompts


@routes.get("/api/prompts")
async def list_prompts(request: web.Request) -> web.Response:
    stored_only = request.query.get("stored") in ("1", "true", "yes")
    items = await _store(request).list(include_standard=not stored_only)
    return web.json_response({"prompts": [p.as_dict() for p in items]})


@routes.get("/api/prompts/{name}")
async def get_prompt(request: web.Request) -> web.Response:
    info = await _store(request).get(request.match_info["name"])
    if info is None:
        raise ApiError(404, f"no prompt named {request.match_info['name']!r}")
    body = info.as_dict()
    body["used_by"] = _config_uses(request, info.name)
    body["used_by"] += await _activations(request).prompt_uses(info.name)
    return web.json_response(body)


def _config_uses(request: web.Request, name: str) -> list[str]:
    """Keys of the configuration that name the prompt (flow steps, closed deviations)."""
    return [key for key, used in server_of(request).config.prompt_uses() if used == name]


@routes.get("/api/prompts/{name}/audio")
async def prompt_audio(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    info = await _store(request).get(name)
    if info is None:
        raise ApiError(404, f"no prompt named {name!r}")
    if info.path is None:
        lang = request.query.get("language", server_of(request).config.server.language)
        try:
            path = _calls(request).prompts.resolve(name, lang).path
        except Exception as exc:
            raise ApiError(
                404, f"standard prompt {name!r} has no audio in {lang!r}: {exc}"
            ) from None
    else:
        path = info.path
    if not path.is_file():
        raise ApiError(404, f"the audio file of prompt {name!r} is missing on the server")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


async def _read_upload(request: web.Request) -> tuple[dict[str, str], bytes | None, str | None]:
    if not request.content_type.startswith("multipart/"):
        raise ApiError(
            415,
            "upload the prompt as multipart/form-data with the audio in field 'file' "
            "(curl -F file=@prompt.wav -F name=...)",
        )
    length = request.content_length
    if length is not None and length > _DRAIN_LIMIT:
        raise ApiError(413, _too_large(length))
    fields: dict[str, str] = {}
    data: bytes | None = None
    filename: str | None = None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise ApiError(400, "nested multipart bodies are not accepted")
        if part.name == "file":
            filename = part.filename
            chunks: list[bytes] = []
            size = 0
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                if size <= MAX_PROMPT_BYTES:
                    chunks.append(chunk)
                elif size > _DRAIN_LIMIT:
                    break
            if size > MAX_PROMPT_BYTES:
                raise ApiError(413, _too_large(size))
            data = b"".join(chunks)
        elif part.name in _TEXT_FIELDS:
            fields[part.name] = (await part.read(decode=True)).decode("utf-8", "replace").strip()
        else:
            raise ApiError(
                400, f"unknown form field {part.name!r} (expected file, {', '.join(_TEXT_FIELDS)})"
            )
    return fields, data, filename


def _too_large(size: int) -> str:
    return (
        f"the file is {size} bytes; prompts may be at most 5 MB ({MAX_PROMPT_BYTES} bytes); "
        "nothing was stored"
    )


@routes.post("/api/prompts")
async def upload_prompt(request: web.Request) -> web.Response:
    fields, data, filename = await _read_upload(request)
    if data is None:
        raise ApiError(400, "form field 'file' (the audio file) is missing")
    if not fields.get("name"):
        raise ApiError(400, "form field 'name' (the prompt's short name) is missing")
    try:
        info = await _store(request).add(
            fields["name"],
            data,
            description=fields.get("description", ""),
            wording=fields.get("wording", ""),
            language=fields.get("language") or server_of(request).config.server.language,
            filename=filename,
            replace=fields.get("replace", "").lower() in ("1", "true", "yes"),
        )
    except PromptTooLarge as exc:
        raise ApiError(413, f"{exc}; nothing was stored") from None
    except PromptFileError as exc:
        raise ApiError(415, f"{exc}; nothing was stored") from None
    except PromptNameError as exc:
        status = 409 if "already exists" in str(exc) else 400
        raise ApiError(status, str(exc)) from None
    return web.json_response(info.as_dict(), status=201)


@routes.delete("/api/prompts/{name}")
async def delete_prompt(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    # Deleting what the configuration names would make its calls skip it (docs/ivr.md).
    configured = [] if name in STANDARD_PROMPTS else _config_uses(request, name)
    if configured:
        raise ApiError(
            409,
            f"prompt {name!r} is named by the configuration ({', '.join(configured)}); "
            "change the configuration and restart first",
        )
    uses = await _activations(request).prompt_uses(name)
    if uses:
        raise ApiError(409, f"prompt {name!r} is in use ({', '.join(uses)}); deactivate it first")
    try:
        removed = await _store(request).delete(name)
    except PromptNameError as exc:
        raise ApiError(400, str(exc)) from None
    if not removed:
        raise ApiError(404, f"no stored prompt named {name!r}")
    return web.json_response({"deleted": name})


# --------------------------------------------------------------------------- queue slots


def _queue(request: web.Request) -> str:
    queue = request.match_info["queue"]
    if queue not in server_of(request).config.queues:
        raise ApiError(404, f"no queue {queue!r}")
    return queue


async def _json_object(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


async def _known_prompt(request: web.Request, body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise ApiError(400, 'field "prompt": expected a prompt name')
    if not await _store(request).exists(prompt):
        raise ApiError(400, f"unknown prompt {prompt!r} (see GET /api/prompts)")
    return prompt


@routes.get("/api/queues/{queue}/prompts")
async def queue_prompts(request: web.Request) -> web.Response:
    queue = _queue(request)
    active = _calls(request).controller.services.slots.get(queue, {})
    # Slots not activated play the standard prompt of the same name.
    return web.json_response(
        {
            "queue": queue,
            "slots": {
                s: {"prompt": active.get(s, s), "custom": s in active} for s in QUEUE_PROMPT_SLOTS
            },
        }
    )


def _slot(request: web.Request) -> str:
    slot = request.match_info["slot"]
    if slot not in QUEUE_PROMPT_SLOTS:
        raise ApiError(400, f"unknown slot {slot!r}; slots: {', '.join(QUEUE_PROMPT_SLOTS)}")
    return slot


@routes.put("/api/queues/{queue}/prompts/{slot}")
async def activate_slot(request: web.Request) -> web.Response:
    queue, slot = _queue(request), _slot(request)
    prompt = await _known_prompt(request, await _json_object(request))
    await _activations(request).set_slot(queue, slot, prompt)
    # Persisted first, then live: the next call picks it up.
    _calls(request).controller.services.slots.setdefault(queue, {})[slot] = prompt
    return web.json_response({"queue": queue, "slot": slot, "prompt": prompt})


@routes.delete("/api/queues/{queue}/prompts/{slot}")
async def reset_slot(request: web.Request) -> web.Response:
    queue, slot = _queue(request), _slot(request)
    await _activations(request).set_slot(queue, slot, None)
    _calls(request).controller.services.slots.get(queue, {}).pop(slot, None)
    return web.json_response({"queue": queue, "slot": slot, "prompt": slot})


# --------------------------------------------------------------------------- hot prompts


def _hot_service(request: web.Request) -> PromptService:
    calls = _calls(request)
    config = server_of(request).config
    return PromptService(
        _store(request),
        _activations(request),
        calls.hot_prompts,
        lambda: config.queues,
        server_of(request).audit,
    )


@routes.get("/api/hot-prompts")
async def list_hot(request: web.Request) -> web.Response:
    return web.json_response({"hot_prompts": _hot_service(request).hot_prompts()})


@routes.post("/api/hot-prompts")
async def activate_hot(request: web.Request) -> web.Response:
    body = await _json_object(request)
    hot = await _hot_service(request).hot_on(
        actor_of(request), body.get("prompt"), body.get("queue", ALL_QUEUES), body.get("until")
    )
    return web.json_response(hot, status=201)


@routes.delete("/api/hot-prompts")
async def deactivate_hot(request: web.Request) -> web.Response:
    body = await _json_object(request)
    off = await _hot_service(request).hot_off(
        actor_of(request), body.get("prompt"), body.get("queue", ALL_QUEUES)
    )
    return web.json_response(off)
