"""Reading what a client sends: JSON bodies within a size limit, ids within range.

Every refusal is a 4xx naming the problem (issue 19: bad input never gives a 500): a body
over the limit is 413, invalid UTF-8 or JSON nested too deeply is 400, an id that cannot
exist is 404. Values quoted back in messages are shortened.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .errors import ApiError

MAX_JSON_BYTES = 64 * 1024  # JSON bodies; prompt uploads have their own limit (5 MB)
MAX_ID = 2**63 - 1  # the largest id a database row can have


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)``, shortened for an error message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-1]}"


async def read_json(request: web.Request, limit: int = MAX_JSON_BYTES) -> Any:
    """The body as JSON (empty body: None)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"request body: at most {limit} bytes, got {request.content_length}")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, f"request body: at most {limit} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"request body is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"request body is not valid JSON: {exc.msg} (line {exc.lineno} col {exc.colno})"
        ) from None
    except RecursionError:
        raise ApiError(400, "request body: JSON nested too deeply") from None


async def json_object(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The request body as a JSON object (empty body: ``{}``); unknown fields are errors."""
    body = await read_json(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, f"request body: expected a JSON object, got {type(body).__name__}")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(
            400,
            f"request body: unknown field {shown(unknown[0])} "
            f"(allowed: {', '.join(sorted(allowed))})",
        )
    return body


def int_id(raw: str, what: str) -> int:
    """A path id: digits within the range of a row id, else 404 naming it."""
    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        raise ApiError(404, f"no {what} {shown(raw)} (ids are numbers)")
    return int(raw)
