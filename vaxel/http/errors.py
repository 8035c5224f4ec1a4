"""JSON errors: every failure the API reports is ``{"error": {"status", "message"}}``."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from vaxel.services.errors import ServiceError

log = logging.getLogger("vaxel.http")


def json_error(status: int, message: str, **details: object) -> web.Response:
    body = {"error": {"status": status, "message": message, **details}}
    return web.json_response(body, status=status)


# How a refusal of the service layer shows over HTTP.
SERVICE_STATUS = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "locked": 423,
    "unprocessable": 422,
    "precondition_failed": 412,  # If-Match names an older version (docs/operations.md)
    "precondition_required": 428,  # a change of an existing entity without If-Match
}


class ApiError(Exception):
    """Raised by handlers for an error response with a message a user can act on."""

    def __init__(self, status: int, message: str, **details: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.message, **exc.details)
    except ServiceError as exc:
        return json_error(SERVICE_STATUS[exc.kind], exc.message, **exc.details)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_error(exc.status, exc.reason)
    except json.JSONDecodeError as exc:
        return json_error(400, f"request body is not valid JSON: {exc.msg}")
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return json_error(500, "internal error (logged on the server)")
