"""The answering service's API: companies, staff, absence notes, messages (docs/answering.md).

Agents answering a company's call read the company with its staff (``GET
/api/companies/ID`` or ``GET /api/calls/CALL/company``) and take messages; managers and
admins change companies and staff; absence notes are also set by external systems with an
absence-scoped API token, by staff id or by the person's number or email.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from vaxel.services.answering import AnsweringService

from .auth import actor_of
from .body import int_id, json_object, shown
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, ref
from .params import int_param

routes = web.RouteTableDef()

_CO = "/api/companies/{company_id}"
_STAFF = f"{_CO}/staff/{{staff_id}}"
_COMPANY_FIELDS = frozenset(
    {"id", "name", "numbers", "greeting", "night_message", "calendar", "instructions"}
)
_STAFF_FIELDS = frozenset({"name", "numbers", "email"})
_ABSENCE_FIELDS = frozenset({"note", "until", "redirect"})
_MESSAGE_FIELDS = frozenset({"caller", "number", "text", "call_id"})


def _service(request: web.Request) -> AnsweringService:
    return server_of(request).answering


def _cid(request: web.Request) -> str:
    return request.match_info["company_id"]


def _sid(request: web.Request) -> int:
    return int_id(request.match_info["staff_id"], "staff member")


@routes.get("/api/companies")
async def list_companies(request: web.Request) -> web.Response:
    return web.json_response({"companies": _service(request).companies()})


@routes.post("/api/companies")
async def create_company(request: web.Request) -> web.Response:
    body = await json_object(request, _COMPANY_FIELDS)
    company = await _service(request).create_company(actor_of(request), body)
    return web.json_response({"company": company}, status=201)


@routes.get(_CO)
async def get_company(request: web.Request) -> web.Response:
    return web.json_response({"company": _service(request).company(_cid(request))})


@routes.patch(_CO)
async def update_company(request: web.Request) -> web.Response:
    body = await json_object(request, _COMPANY_FIELDS)
    company = await _service(request).update_company(actor_of(request), _cid(request), body)
    return web.json_response({"company": company})


@routes.delete(_CO)
async def delete_company(request: web.Request) -> web.Response:
    await _service(request).delete_company(actor_of(request), _cid(request))
    return web.json_response({"deleted": True})


@routes.post(f"{_CO}/staff")
async def create_staff(request: web.Request) -> web.Response:
    body = await json_object(request, _STAFF_FIELDS)
    staff = await _service(request).create_staff(actor_of(request), _cid(request), body)
    return web.json_response({"staff": staff}, status=201)


@routes.patch(_STAFF)
async def update_staff(request: web.Request) -> web.Response:
    body = await json_object(request, _STAFF_FIELDS)
    service = _service(request)
    staff = await service.update_staff(actor_of(request), _cid(request), _sid(request), body)
    return web.json_response({"staff": staff})


@routes.delete(_STAFF)
async def delete_staff(request: web.Request) -> web.Response:
    await _service(request).delete_staff(actor_of(request), _cid(request), _sid(request))
    return web.json_response({"deleted": True})


def _absence_fields(body: dict[str, Any]) -> dict[str, Any] | None:
    """The note to set, or None to clear it ({"note": null})."""
    if "note" not in body:
        raise ApiError(400, "field 'note': required (null clears the note)")
    if body["note"] is None:
        return None
    return {k: body[k] for k in _ABSENCE_FIELDS if k in body}


@routes.put(f"{_STAFF}/absence")
async def set_absence(request: web.Request) -> web.Response:
    body = await json_object(request, _ABSENCE_FIELDS)
    service = _service(request)
    staff = service.staff_member(_cid(request), _sid(request))
    updated = await service.set_absence(actor_of(request), staff, _absence_fields(body))
    return web.json_response({"staff": updated})


@routes.delete(f"{_STAFF}/absence")
async def clear_absence(request: web.Request) -> web.Response:
    service = _service(request)
    staff = service.staff_member(_cid(request), _sid(request))
    return web.json_response({"staff": await service.set_absence(actor_of(request), staff, None)})


@routes.put("/api/absence")
async def set_absence_by_contact(request: web.Request) -> web.Response:
    """For external systems that know the person by number or email, not by Vaxel's ids."""
    body = await json_object(request, _ABSENCE_FIELDS | {"company", "number", "email"})
    for name in ("company", "number", "email"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ApiError(400, f"field {name!r}: expected a string, got {shown(body[name])}")
    service = _service(request)
    staff = service.locate(
        company=body.get("company"), number=body.get("number"), email=body.get("email")
    )
    fields = _absence_fields({k: v for k, v in body.items() if k in _ABSENCE_FIELDS})
    return web.json_response({"staff": await service.set_absence(actor_of(request), staff, fields)})


@routes.post(f"{_STAFF}/messages")
async def take_message(request: web.Request) -> web.Response:
    body = await json_object(request, _MESSAGE_FIELDS)
    service = _service(request)
    message = await service.take_message(actor_of(request), _cid(request), _sid(request), body)
    return web.json_response({"message": message}, status=201)


@routes.get(f"{_STAFF}/messages")
async def list_messages(request: web.Request) -> web.Response:
    limit = int_param(request, "limit", 100, 1, 1000)
    items = await _service(request).messages(_cid(request), _sid(request), limit)
    return web.json_response({"messages": items})


@routes.get("/api/calls/{call_id}/company")
async def company_of_call(request: web.Request) -> web.Response:
    calls = server_of(request).calls
    call_id = request.match_info["call_id"]
    company = calls.company_of_call(call_id) if calls is not None else None
    if company is None:
        raise ApiError(
            404, f"no live call {shown(call_id)} to a company's number (GET /api/calls lists them)"
        )
    return web.json_response({"call_id": call_id, "company": company})


# ---------------------------------------------------------------------- OpenAPI

_COMPANY_ID = path_param("company_id", "the company's id")
_STAFF_ID = path_param("staff_id", "the staff member's id (a number)")
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_NUMBERS = {"type": "array", "items": _STR}
_ABSENCE_PROPS: dict[str, Any] = {
    "note": {**_NSTR, "description": "the note (semester, lunch ...); null clears it"},
    "until": {**_NSTR, "format": "date-time", "description": "with an offset; null: open"},
    "redirect": {**_NSTR, "description": "a number to give callers instead"},
}
_ABSENCE_BODY = {"type": "object", "required": ["note"], "properties": _ABSENCE_PROPS}
_COMPANY_PROPS: dict[str, Any] = {
    "id": _STR,
    "name": _STR,
    "numbers": {**_NUMBERS, "description": "B-numbers of the plan that lead to a queue"},
    "greeting": {**_STR, "description": "prompt when open (default welcome)"},
    "night_message": {**_STR, "description": "prompt when closed (default closed)"},
    "calendar": {**_NSTR, "description": "calendars.ID; null: the control queue's"},
    "instructions": _STR,
}
_COMPANY_BODY = {"type": "object", "properties": _COMPANY_PROPS}
_STAFF_BODY = {
    "type": "object",
    "properties": {"name": _STR, "numbers": _NUMBERS, "email": _NSTR},
}
_ONE_COMPANY = {"type": "object", "properties": {"company": ref("Company")}}
_ONE_STAFF = {"type": "object", "properties": {"staff": ref("Staff")}}
_ERR = {400: "invalid body (the message names the field)", 404: "unknown company or staff"}
_TAG = "answering"

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Absence": {
        "type": ["object", "null"],
        "properties": {"note": _STR, "until": _NSTR, "redirect": _NSTR},
    },
    "Staff": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "company": _STR,
            "name": _STR,
            "numbers": _NUMBERS,
            "email": _NSTR,
            "absent": {"type": "boolean"},
            "absence": ref("Absence"),
            "transfer_targets": {
                **_NUMBERS,
                "description": 'targets for POST /api/calls/{call_id}/transfer {"target"}',
            },
        },
    },
    "Company": {
        "type": "object",
        "properties": {
            **_COMPANY_PROPS,
            "staff": {"type": "array", "items": ref("Staff")},
        },
    },
    "StaffMessage": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "company": _STR,
            "staff_id": {"type": "integer"},
            "staff": _STR,
            "call_id": _NSTR,
            "caller": _NSTR,
            "number": _NSTR,
            "text": _STR,
            "taken_by": _NSTR,
            "created_at": {"type": "string", "format": "date-time"},
            "recipient": _NSTR,
            "mail_status": {"enum": ["none", "pending", "sent", "failed"]},
            "mail_error": _NSTR,
            "mailed_at": _NSTR,
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/companies": {
        "get": operation(
            "The answering service's companies (without staff)",
            tag=_TAG,
            ok={"type": "object", "properties": {"companies": {"type": "array"}}},
        ),
        "post": operation(
            "Add a company (audited)",
            tag=_TAG,
            body=_COMPANY_BODY,
            ok=_ONE_COMPANY,
            ok_status=201,
            ok_description="created",
            errors={400: _ERR[400], 409: "the id exists"},
        ),
    },
    _CO: {
        "get": operation(
            "A company with its staff and their absence notes",
            tag=_TAG,
            params=[_COMPANY_ID],
            ok=_ONE_COMPANY,
            errors={404: _ERR[404]},
        ),
        "patch": operation(
            "Change a company (audited)",
            tag=_TAG,
            params=[_COMPANY_ID],
            body=_COMPANY_BODY,
            ok=_ONE_COMPANY,
            errors=_ERR,
        ),
        "delete": operation(
            "Delete a company and its staff (audited)",
            tag=_TAG,
            params=[_COMPANY_ID],
            ok={"type": "object"},
            errors={404: _ERR[404]},
        ),
    },
    f"{_CO}/staff": {
        "post": operation(
            "Add a staff member (audited)",
            tag=_TAG,
            params=[_COMPANY_ID],
            body=_STAFF_BODY,
            ok=_ONE_STAFF,
            ok_status=201,
            ok_description="created",
            errors=_ERR,
        )
    },
    _STAFF: {
        "patch": operation(
            "Change a staff member (audited)",
            tag=_TAG,
            params=[_COMPANY_ID, _STAFF_ID],
            body=_STAFF_BODY,
            ok=_ONE_STAFF,
            errors=_ERR,
        ),
        "delete": operation(
            "Delete a staff member (audited)",
            tag=_TAG,
            params=[_COMPANY_ID, _STAFF_ID],
            ok={"type": "object"},
            errors={404: _ERR[404]},
        ),
    },
    f"{_STAFF}/absence": {
        "put": operation(
            "Set (or with note null clear) a staff member's absence note (audited)",
            tag=_TAG,
            params=[_COMPANY_ID, _STAFF_ID],
            body=_ABSENCE_BODY,
            ok=_ONE_STAFF,
            errors=_ERR,
        ),
        "delete": operation(
            "Clear a staff member's absence note (audited)",
            tag=_TAG,
            params=[_COMPANY_ID, _STAFF_ID],
            ok=_ONE_STAFF,
            errors={404: _ERR[404]},
        ),
    },
    "/api/absence": {
        "put": operation(
            "Set or clear the absence note of the staff member with this number or email",
            tag=_TAG,
            body={
                **_ABSENCE_BODY,
                "properties": {
                    **_ABSENCE_PROPS,
                    "company": {**_NSTR, "description": "only in this company"},
                    "number": _NSTR,
                    "email": _NSTR,
                },
            },
            ok=_ONE_STAFF,
            errors={
                400: _ERR[400],
                404: "nobody has that number or email (the message names it)",
                409: "several people have it: give company",
            },
        )
    },
    f"{_STAFF}/messages": {
        "post": operation(
            "Take a message for a staff member: stored, mailed to them, in the call log",
            tag=_TAG,
            params=[_COMPANY_ID, _STAFF_ID],
            body={
                "type": "object",
                "required": ["text"],
                "properties": {"caller": _NSTR, "number": _NSTR, "text": _STR, "call_id": _NSTR},
            },
            ok={"type": "object", "properties": {"message": ref("StaffMessage")}},
            ok_status=201,
            ok_description="taken (mail_status says whether the mail went out)",
            errors=_ERR,
        ),
        "get": operation(
            "Messages taken for a staff member, newest first",
            tag=_TAG,
            params=[_COMPANY_ID, _STAFF_ID],
            ok={
                "type": "object",
                "properties": {"messages": {"type": "array", "items": ref("StaffMessage")}},
            },
            errors={404: _ERR[404]},
        ),
    },
    "/api/calls/{call_id}/company": {
        "get": operation(
            "The company a live call is for, with its staff and absence notes",
            tag=_TAG,
            params=[path_param("call_id", "the call's id (GET /api/calls)")],
            ok={"type": "object", "properties": {"call_id": _STR, "company": ref("Company")}},
            errors={404: "no live call to a company's number"},
        )
    },
}
