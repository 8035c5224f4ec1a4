"""Query-string parsing with errors that name the parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from .errors import ApiError


def iso_time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, f"query parameter {name!r}: expected an ISO 8601 time, got {raw!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r}: expected an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ApiError(400, f"query parameter {name!r}: must be between {lo} and {hi}")
    return value
