"""An agent's live call: hold, resume, blind transfer, consult, toggle, complete, cancel
(docs/transfers.md). Agents act on their own calls only; managers and admins on any
(vaxel/services/call_control.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from vaxel.services import CallControlService

from .agents_routes import call_stack, json_object, optional_str
from .auth import actor_of
from .context import server_of
from .openapi import operation, path_param

routes = web.RouteTableDef()

# (path suffix, summary, takes a target)
OPERATIONS: tuple[tuple[str, str, bool], ...] = (
    ("hold", "Put the caller on hold (hold music)", False),
    ("resume", "Take the caller off hold", False),
    ("transfer", "Blind transfer: the agent steps out before the target answers", True),
    ("consult", "Consult a target while the caller is on hold (attended transfer)", True),
    ("toggle", "During a consult: talk to the other party, the first one on hold", False),
    ("complete", "Complete the attended transfer: caller and consulted party talk", False),
    ("cancel-consult", "End the consult: back with the caller", False),
)


def _handler(op: str, with_target: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        stack = call_stack(request)
        body = await json_object(request, frozenset({"target"} if with_target else ()))
        target = optional_str(body, "target") if with_target else None
        service = CallControlService(stack, server_of(request).audit)
        result = await service.act(actor_of(request), request.match_info["call_id"], op, target)
        return web.json_response(result, status=202 if result["status"] == 202 else 200)

    handle.__name__ = f"call_{op.replace('-', '_')}"
    return handle


for _op, _, _with_target in OPERATIONS:
    routes.post(f"/api/calls/{{call_id}}/{_op}")(_handler(_op, _with_target))


# ---------------------------------------------------------------------- OpenAPI

_CALL = path_param("call_id", "the live call's id (GET /api/calls)")
_TARGET_BODY = {
    "type": "object",
    "required": ["target"],
    "additionalProperties": False,
    "properties": {
        "target": {
            "type": "string",
            "minLength": 1,
            "description": "a number of the plan (a queue or a service), an agent id, or an "
            "external number (through the trunk, if [transfers] external)",
        }
    },
}
_RESULT = {
    "type": "object",
    "properties": {
        "call_id": {"type": "string"},
        "agent": {"type": "string", "description": "the agent whose call it is"},
        "operation": {"type": "string"},
        "status": {"type": "integer", "description": "202: a transfer or consult under way"},
        "message": {"type": "string"},
        "transfer": {
            "type": ["object", "null"],
            "description": "phase, agent, target, target_kind, talking_to; or {held: true}",
        },
    },
}
_ERRORS = {
    400: "invalid body (the message names the field)",
    403: "not the agent's own call (agents), or no permission",
    404: "no such live call, or the target is unknown / not logged in",
    409: "not possible now (no consult to toggle, a transfer already under way ...)",
}

OPENAPI_PATHS: dict[str, Any] = {
    f"/api/calls/{{call_id}}/{op}": {
        "post": operation(
            summary,
            tag="calls",
            params=[_CALL],
            body=_TARGET_BODY if with_target else {"type": "object", "additionalProperties": False},
            body_required=with_target,
            ok=_RESULT,
            errors=_ERRORS,
        )
    }
    for op, summary, with_target in OPERATIONS
}
