"""The report centre over HTTP (SPEC S12): run a report now (JSON, CSV, XLSX), live queue
figures for wallboards, and report subscriptions. Routes only: the work is in
``vaxel/services`` (``ReportCentre``), shared with the mail scheduler."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from reports import ParamError, ReportKind
from vaxel.services import ReportCentre

from .body import int_id, read_json
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, query_param, ref

routes = web.RouteTableDef()


def centre(request: web.Request) -> ReportCentre:
    c = server_of(request).reports
    if c is None:
        raise ApiError(503, "the report centre is not running")
    return c


@routes.get("/api/reports/{report}")
async def run_report(request: web.Request) -> web.Response:
    c = centre(request)
    values = dict(request.query)
    try:
        params = c.service.params(values, report=request.match_info["report"])
        fmt = c.service.format_of(values)
    except ParamError as exc:
        raise ApiError(400, str(exc), param=exc.param, reason=exc.reason) from None
    rendered = c.service.render(await c.service.run(params), fmt)
    headers = {}
    if fmt != "json":
        headers["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    return web.Response(body=rendered.body, headers={
        "Content-Type": rendered.content_type, **headers})  # fmt: skip


@routes.get("/api/live/queues")
async def live_queues(request: web.Request) -> web.Response:
    snaps = centre(request).live.snapshots()
    return web.json_response({"queues": [snaps[q] for q in sorted(snaps)]})


@routes.get("/api/report-subscriptions")
async def list_subscriptions(request: web.Request) -> web.Response:
    subs = await centre(request).subscriptions.all()
    return web.json_response({"subscriptions": [s.as_dict() for s in subs]})


@routes.post("/api/report-subscriptions")
async def create_subscription(request: web.Request) -> web.Response:
    c = centre(request)
    body: Any = await read_json(request)
    try:
        sub = await c.subscriptions.create(body, c.scheduler.clock())
    except ParamError as exc:
        raise ApiError(400, str(exc), param=exc.param, reason=exc.reason) from None
    c.scheduler.wake()
    out = sub.as_dict()
    out["first_due_at"] = _iso(sub.schedule().first_due(sub.created_at.timestamp()))
    return web.json_response(out, status=201)


def _sub_id(request: web.Request) -> int:
    return int_id(request.match_info["subscription_id"], "report subscription")


@routes.get("/api/report-subscriptions/{subscription_id}")
async def get_subscription(request: web.Request) -> web.Response:
    c = centre(request)
    sub_id = _sub_id(request)
    sub = await c.subscriptions.get(sub_id)
    if sub is None:
        raise ApiError(404, f"no report subscription {sub_id}")
    out = sub.as_dict()
    out["sends"] = [s.as_dict() for s in await c.subscriptions.sends(sub_id)]
    return web.json_response(out)


@routes.patch("/api/report-subscriptions/{subscription_id}")
async def change_subscription(request: web.Request) -> web.Response:
    c = centre(request)
    sub_id = _sub_id(request)
    body: Any = await read_json(request)
    try:
        sub = await c.subscriptions.update(sub_id, body)
    except ParamError as exc:
        raise ApiError(400, str(exc), param=exc.param, reason=exc.reason) from None
    if sub is None:
        raise ApiError(404, f"no report subscription {sub_id}")
    c.scheduler.wake()
    return web.json_response(sub.as_dict())


@routes.delete("/api/report-subscriptions/{subscription_id}")
async def delete_subscription(request: web.Request) -> web.Response:
    sub_id = _sub_id(request)
    if not await centre(request).subscriptions.delete(sub_id):
        raise ApiError(404, f"no report subscription {sub_id}")
    return web.json_response({"deleted": sub_id})


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat()


# ---------------------------------------------------------------------- OpenAPI

_NUM = {"type": ["number", "null"]}
_REPORT_PARAMS = [
    query_param("from", "start, inclusive: ISO 8601 date or time; without an offset the "
                "wall clock of time_zone (default: today 00:00)", {"type": "string"}),
    query_param("to", "end, exclusive (default: now)", {"type": "string"}),
    query_param("interval", "rows per interval (default hour)",
                {"enum": ["15min", "hour", "day", "week", "month"]}),
    query_param("time_zone", "IANA zone of the intervals (default: server.time_zone)",
                {"type": "string"}),
    query_param("queues", "comma-separated queue ids (default: all)", {"type": "string"}),
    query_param("agents", "comma-separated agent ids (default: all)", {"type": "string"}),
    query_param("format", "json (default), csv or xlsx", {"enum": ["json", "csv", "xlsx"]}),
]  # fmt: skip

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Report": {
        "type": "object",
        "properties": {
            "report": {"enum": [k.value for k in ReportKind]},
            "title": {"type": "string"},
            "params": {"type": "object"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {
                "type": "array",
                "items": {"type": "object"},
                "description": "one object per row with the columns as keys; the figures' "
                "formulas are in docs/statistics.md",
            },
        },
    },
    "LiveQueue": {
        "type": "object",
        "properties": {
            "queue": {"type": "string"},
            "waiting": {"type": "integer", "description": "calls waiting now (not ringing)"},
            "ringing": {"type": "integer", "description": "calls ringing an agent now"},
            "longest_wait_seconds": _NUM,
            "agents": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "member agents by state"},
            "today": {
                "type": "object",
                "description": "calls that arrived today (local day of server.time_zone)",
                "properties": {
                    "offered": {"type": "integer"},
                    "answered": {"type": "integer"},
                    "answered_within": {"type": "integer"},
                    "abandoned": {"type": "integer"},
                    "abandoned_short": {"type": "integer"},
                    "service_level": _NUM,
                    "service_level_seconds": {"type": "number"},
                    "asa": _NUM,
                    "longest_wait_seconds": {"type": "number"},
                },
            },
        },
    },
    "ReportSubscriptionInput": {
        "type": "object",
        "required": ["email", "owner", "report", "periodicity"],
        "properties": {
            "email": {"type": "string", "description": "the recipient (required)"},
            "owner": {"type": "string"},
            "report": {"enum": [k.value for k in ReportKind]},
            "periodicity": {"enum": ["daily", "weekly", "monthly"]},
            "time_zone": {"type": "string"},
            "queues": {"type": "array", "items": {"type": "string"}},
            "agents": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ReportSubscription": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "owner": {"type": "string"},
            "report": {"type": "string"},
            "periodicity": {"type": "string"},
            "time_zone": {"type": "string"},
            "queues": {"type": ["array", "null"], "items": {"type": "string"}},
            "agents": {"type": ["array", "null"], "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
            "first_due_at": {"type": "string", "format": "date-time"},
            "sends": {"type": "array", "items": {"type": "object"},
                      "description": "each period's send: status pending, sending, sent, "
                      "failed or unknown; attempts, error, message_id"},
        },
    },
}  # fmt: skip

_SUB = "/api/report-subscriptions/{subscription_id}"
OPENAPI_PATHS: dict[str, Any] = {
    "/api/reports/{report}": {
        "get": operation(
            "Run a standard report now",
            tag="reports",
            description="`report`: key_figures (per queue and interval), agents (agent "
            "statistics with NKI), nki (survey answers per question, agent, queue), calls "
            "(call detail). CSV and XLSX come as attachments.",
            params=[path_param("report", "key_figures, agents, nki or calls"),
                    *_REPORT_PARAMS],
            ok=ref("Report"),
            errors={400: "a parameter is wrong: the message, `param` and `reason` name it"},
        )
    },
    "/api/live/queues": {
        "get": operation(
            "Live queue figures for wallboards",
            tag="reports",
            description="Also pushed as `queue_figures` events on /api/events (at most once "
            "a second per queue, when its figures changed).",
            ok={"type": "object",
                "properties": {"queues": {"type": "array", "items": ref("LiveQueue")}}},
        )
    },
    "/api/report-subscriptions": {
        "get": operation(
            "Report subscriptions",
            tag="reports",
            ok={"type": "object", "properties": {
                "subscriptions": {"type": "array", "items": ref("ReportSubscription")}}},
        ),
        "post": operation(
            "Subscribe an email address to a report",
            tag="reports",
            body=ref("ReportSubscriptionInput"),
            body_required=True,
            ok=ref("ReportSubscription"),
            ok_status=201,
            errors={400: "a field is missing or wrong (no email address: refused, naming "
                    "why); `param` names it"},
        ),
    },
    _SUB: {
        "get": operation(
            "One subscription and its sends",
            tag="reports",
            params=[path_param("subscription_id", "subscription id")],
            ok=ref("ReportSubscription"),
            errors={404: "no such subscription"},
        ),
        "patch": operation(
            "Change a subscription (fields as when creating; the others stay)",
            tag="reports",
            params=[path_param("subscription_id", "subscription id")],
            body=ref("ReportSubscriptionInput"),
            body_required=True,
            ok=ref("ReportSubscription"),
            errors={400: "a field is wrong; `param` names it", 404: "no such subscription"},
        ),
        "delete": operation(
            "Delete a subscription",
            tag="reports",
            params=[path_param("subscription_id", "subscription id")],
            ok={"type": "object", "properties": {"deleted": {"type": "integer"}}},
            errors={404: "no such subscription"},
        ),
    },
}  # fmt: skip
