"""Voicemail API: messages left by callers, their mail status, their audio."""

from __future__ import annotations

from aiohttp import web

from vaxel.voicemail import VoicemailInfo, VoicemailService

from .body import int_id
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, query_param, ref
from .params import int_param

routes = web.RouteTableDef()


def _service(request: web.Request) -> VoicemailService:
    calls = server_of(request).calls
    if calls is None:
        raise ApiError(503, "the call stack is not running")
    return calls.voicemail


def _id(request: web.Request) -> int:
    return int_id(request.match_info["id"], "voicemail")


def _not_found(request: web.Request) -> ApiError:
    return ApiError(404, f"no voicemail {request.match_info['id']}")


async def _voicemail(request: web.Request) -> VoicemailInfo:
    """The voicemail the path names, or 404."""
    info = await _service(request).get(_id(request))
    if info is None:
        raise _not_found(request)
    return info


@routes.get("/api/voicemails")
async def list_voicemails(request: web.Request) -> web.Response:
    limit = int_param(request, "limit", 1000, 1, 10000)
    items = await _service(request).list(
        queue=request.query.get("queue"), agent=request.query.get("agent"), limit=limit
    )
    return web.json_response({"voicemails": [v.as_dict() for v in items]})


@routes.get("/api/voicemails/{id}")
async def get_voicemail(request: web.Request) -> web.Response:
    return web.json_response((await _voicemail(request)).as_dict())


@routes.get("/api/voicemails/{id}/audio")
async def voicemail_audio(request: web.Request) -> web.StreamResponse:
    info = await _voicemail(request)
    if not info.path.is_file():
        raise ApiError(404, f"the audio file of voicemail {info.id} is missing on the server")
    return web.FileResponse(
        info.path,
        headers={
            "Content-Type": "audio/wav",
            "Content-Disposition": f'attachment; filename="voicemail-{info.id}.wav"',
        },
    )


@routes.post("/api/voicemails/{id}/resend")
async def resend_voicemail(request: web.Request) -> web.Response:
    # resend() sends nothing to a message without a recipient and returns it unchanged.
    info = await _service(request).resend(_id(request))
    if info is None:
        raise _not_found(request)
    if not info.recipient:
        raise ApiError(409, f"voicemail {info.id} has no recipient address to send to")
    return web.json_response(info.as_dict(), status=202)


_ID = path_param("id", "the voicemail's id (a number)")
_TIME = {"type": ["string", "null"], "format": "date-time"}

OPENAPI_SCHEMAS = {
    "Voicemail": {
        "type": "object",
        "description": "A message left by a caller; mail_status says whether it was emailed.",
        "properties": {
            "id": {"type": "integer"},
            "call_id": {"type": "string"},
            "queue": {"type": ["string", "null"], "description": "the mailbox's queue"},
            "agent": {"type": ["string", "null"], "description": "the mailbox's agent"},
            "a_number": {"type": ["string", "null"], "description": "who called"},
            "b_number": {"type": ["string", "null"], "description": "the number dialled"},
            "duration": {"type": "number", "description": "seconds"},
            "created_at": {"type": "string", "format": "date-time"},
            "recipient": {"type": ["string", "null"], "description": "the mail address"},
            "mail_status": {
                "enum": ["none", "pending", "sent", "failed"],
                "description": "none: no address; pending: sending or waiting to retry; "
                "failed: retries exhausted (the message is kept; resend it)",
            },
            "mail_attempts": {"type": "integer"},
            "mail_error": {"type": ["string", "null"], "description": "the last failure"},
            "mailed_at": _TIME,
            "heard_at": {**_TIME, "description": "first heard by phone (null: new)"},
            "audio": {"type": "string", "description": "path of the audio (WAV)"},
        },
    }
}

OPENAPI_PATHS = {
    "/api/voicemails": {
        "get": operation(
            "Voicemail messages, newest first",
            tag="voicemail",
            params=[
                query_param("queue", "only this queue's mailbox", {"type": "string"}),
                query_param("agent", "only this agent's mailbox", {"type": "string"}),
                query_param(
                    "limit",
                    "at most this many (1-10000, default 1000)",
                    {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000},
                ),
            ],
            ok={
                "type": "object",
                "properties": {"voicemails": {"type": "array", "items": ref("Voicemail")}},
            },
            errors={400: "bad limit"},
        )
    },
    "/api/voicemails/{id}": {
        "get": operation(
            "One voicemail message",
            tag="voicemail",
            params=[_ID],
            ok=ref("Voicemail"),
            errors={404: "no such voicemail"},
        )
    },
    "/api/voicemails/{id}/audio": {
        "get": operation(
            "The message as a WAV file (8 kHz mono 16-bit)",
            tag="voicemail",
            params=[_ID],
            ok={"type": "string", "format": "binary"},
            ok_content_type="audio/wav",
            errors={404: "no such voicemail, or its file is missing"},
        )
    },
    "/api/voicemails/{id}/resend": {
        "post": operation(
            "Email the message again now (e.g. after mail_status failed)",
            tag="voicemail",
            params=[_ID],
            ok=ref("Voicemail"),
            ok_status=202,
            ok_description="queued for sending; mail_status is pending",
            errors={404: "no such voicemail", 409: "no recipient address"},
        )
    },
}
