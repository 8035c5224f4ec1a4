"""NKI survey answers (SPEC S9): one row per question asked, from the call log."""

from __future__ import annotations

from aiohttp import web

from calllog import EventKind

from .calllog_routes import event_filters
from .context import server_of
from .openapi import operation, query_param, ref

routes = web.RouteTableDef()


@routes.get("/api/surveys")
async def survey_answers(request: web.Request) -> web.Response:
    events = await server_of(request).calllog.events(
        kind=EventKind.SURVEY_ANSWER, **event_filters(request)
    )
    return web.json_response(
        {
            "answers": [
                {
                    "call_id": e.call_id,
                    "at": e.at.isoformat(),
                    "queue": e.queue,
                    "agent": e.agent,
                    "position": (e.data or {}).get("position"),
                    "question": (e.data or {}).get("question"),
                    "answer": (e.data or {}).get("answer"),
                }
                for e in events
            ]
        }
    )


OPENAPI_SCHEMAS = {
    "SurveyAnswer": {
        "type": "object",
        "properties": {
            "call_id": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "queue": {"type": ["string", "null"]},
            "agent": {"type": ["string", "null"], "description": "the agent the caller rated"},
            "position": {"type": "integer", "description": "1-based question number"},
            "question": {"type": "string", "description": "the question's prompt name"},
            "answer": {"type": ["integer", "null"], "description": "1-5 (5 best); null: skipped"},
        },
    }
}

OPENAPI_PATHS = {
    "/api/surveys": {
        "get": operation(
            "NKI survey answers by time range, queue or agent",
            tag="call log",
            params=[
                query_param("since", "ISO 8601 time, inclusive", {"type": "string"}),
                query_param("until", "ISO 8601 time, exclusive", {"type": "string"}),
                query_param("queue", "only this queue", {"type": "string"}),
                query_param("agent", "only this agent", {"type": "string"}),
                query_param("limit", "at most this many (1-10000)", {"type": "integer"}),
            ],
            ok={
                "type": "object",
                "properties": {"answers": {"type": "array", "items": ref("SurveyAnswer")}},
            },
            errors={400: "a query parameter is malformed (the message names it)"},
        )
    }
}
