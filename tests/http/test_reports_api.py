"""Reports through the API: key figures, agents, NKI and call detail as JSON, CSV and XLSX;
parameter errors; live queue figures; subscriptions refused without an address."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import aiohttp
import pytest
from openpyxl import load_workbook

from .report_fixtures import HEADERS, Clock, RawApi, StartServer
from .report_seed import at, seed

Q = "from=2026-03-10T09:00&to=2026-03-10T10:00&interval=hour&time_zone=Europe/Stockholm"


@pytest.fixture
async def api(start_server: StartServer, http_session: aiohttp.ClientSession) -> RawApi:
    server = await start_server(Clock(at(14).timestamp()))
    await seed(server.calllog)
    return RawApi(server, http_session, server.http_url)


async def test_key_figures_for_the_hour_as_json_csv_and_xlsx(api: RawApi) -> None:
    status, body = await api.call("GET", f"/api/reports/key_figures?{Q}")
    assert status == 200, body
    (row,) = body["rows"]
    assert row["queue"] == "support" and row["start"] == "2026-03-10T09:00:00+01:00"
    assert (row["offered"], row["answered"], row["answered_within"]) == (3, 1, 1)
    assert (row["abandoned"], row["abandoned_short"]) == (2, 1)
    assert row["service_level"] == 0.5  # 1 answered within 20 s / (3 offered - 1 short)
    assert row["asa"] == 8.0 and row["talk"] == 120.0 and row["wrap_up"] == 10.0
    assert row["longest_wait"] == 40.0 and row["mos_mean"] == 4.2

    status, ctype, raw = await api.raw(f"/api/reports/key_figures?{Q}&format=csv")
    assert status == 200 and ctype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert [(r["queue"], r["offered"], r["abandoned_short"], r["service_level"]) for r in rows] == [
        ("support", "3", "1", "0.5")
    ]
    status, ctype, raw = await api.raw(f"/api/reports/key_figures?{Q}&format=xlsx")
    assert status == 200 and ctype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(raw)).worksheets[0]
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    assert dict(zip(header, first, strict=True))["offered"] == 3


async def test_agent_statistics_include_state_times_and_nki(api: RawApi) -> None:
    status, body = await api.call("GET", f"/api/reports/agents?{Q}&agents=1001,1002")
    assert status == 200, body
    by = {r["agent"]: r for r in body["rows"]}
    a = by["1001"]
    assert a["answered"] == 1 and a["offers"] == 1 and a["talk"] == 120.0
    assert a["busy"] == 120.0 and a["wrap_up"] == 10.0 and a["ringing"] == 6.0
    assert a["logged_in"] == 3600.0  # logged in at 08:55, all of the hour
    assert a["nki_answers"] == 2 and a["nki_mean"] == 4.5
    b = by["1002"]
    assert b["paused"] == 30 * 60 and b["paused_by_reason"] == "meeting=1800"
    assert b["logged_in"] == 45 * 60


async def test_nki_per_question_and_call_detail(api: RawApi) -> None:
    status, body = await api.call("GET", f"/api/reports/nki?{Q}")
    assert status == 200
    assert [(r["position"], r["question"], r["agent"], r["answers"], r["mean"]) for r in
            body["rows"]] == [(1, "survey-q-agent", "1001", 1, 4.0),
                              (2, "survey-q-resolved", "1001", 1, 5.0)]  # fmt: skip
    status, body = await api.call("GET", f"/api/reports/calls?{Q}")
    assert status == 200
    assert [(r["call_id"], r["outcome"], r["wait_seconds"]) for r in body["rows"]] == [
        ("c1", "answered", 8.0), ("c2", "abandoned", 40.0), ("c3", "cancelled", 2.0),
    ]  # fmt: skip
    assert body["rows"][0]["started_at"] == "2026-03-10T09:00:00+01:00"


@pytest.mark.parametrize(
    ("query", "param", "words"),
    [
        ("interval=fortnight", "interval", "expected one of 15min, hour"),
        ("from=yesterday", "from", "ISO 8601"),
        ("from=2026-03-10T10:00&to=2026-03-10T09:00", "to", "must be after from"),
        ("queues=support,nosuch", "queues", "unknown ['nosuch']"),
        ("agents=9999", "agents", "unknown ['9999']"),
        ("time_zone=Mars/Olympus", "time_zone", "IANA zone"),
        ("format=pdf", "format", "expected one of json, csv, xlsx"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_it(
    api: RawApi, query: str, param: str, words: str
) -> None:
    status, body = await api.call("GET", f"/api/reports/key_figures?{query}")
    assert status == 400, body
    assert body["error"]["param"] == param and words in body["error"]["message"], body


async def test_an_unknown_report_is_a_400(api: RawApi) -> None:
    status, body = await api.call("GET", "/api/reports/sales_forecast")
    assert status == 400 and body["error"]["param"] == "report"


async def test_live_queue_figures_follow_the_log_and_go_out_as_events(api: RawApi) -> None:
    status, body = await api.call("GET", "/api/live/queues")
    assert status == 200
    support = next(q for q in body["queues"] if q["queue"] == "support")
    # The seeded events were appended after the start: the listener saw them.
    assert support["today"]["offered"] == 3 and support["today"]["abandoned"] == 2
    assert support["today"]["service_level"] == 0.5
    assert support["waiting"] == 0 and support["longest_wait_seconds"] is None
    assert set(support["agents"]) >= {"ready", "offline", "paused"}
    async with api.session.ws_connect(api.url("/api/events"), headers=HEADERS) as ws:
        seen = []
        async with asyncio.timeout(5):
            while not any(e.get("type") == "queue_figures" for e in seen):
                seen.append(json.loads((await ws.receive()).data))
    figures = next(e for e in seen if e.get("type") == "queue_figures")
    assert figures["queue"] in ("support", "sales") and "today" in figures


async def test_a_subscription_needs_an_email_address(api: RawApi) -> None:
    body = {"owner": "Maja", "report": "key_figures", "periodicity": "daily"}
    status, resp = await api.call("POST", "/api/report-subscriptions", body)
    assert status == 400 and resp["error"]["param"] == "email"
    assert "reports are sent by email" in resp["error"]["message"]
    status, resp = await api.call("POST", "/api/report-subscriptions", {**body, "email": "maja"})
    assert status == 400 and resp["error"]["param"] == "email"
    status, resp = await api.call(
        "POST", "/api/report-subscriptions", {**body, "email": "m@x.se", "periodicity": "hourly"}
    )
    assert status == 400 and resp["error"]["param"] == "periodicity"


async def test_subscriptions_are_created_listed_and_deleted(api: RawApi) -> None:
    body = {"owner": "Maja", "email": "maja@example.com", "report": "agents",
            "periodicity": "weekly", "agents": ["1001"]}  # fmt: skip
    status, sub = await api.call("POST", "/api/report-subscriptions", body)
    assert status == 201, sub
    assert sub["time_zone"] == "Europe/Stockholm" and sub["agents"] == ["1001"]
    assert sub["first_due_at"] == "2026-03-15T23:10:00+00:00"  # Monday 00:10 local
    status, listed = await api.call("GET", "/api/report-subscriptions")
    assert [s["id"] for s in listed["subscriptions"]] == [sub["id"]]
    status, one = await api.call("GET", f"/api/report-subscriptions/{sub['id']}")
    assert status == 200 and one["sends"] == []
    assert (await api.call("DELETE", f"/api/report-subscriptions/{sub['id']}"))[0] == 200
    assert (await api.call("DELETE", f"/api/report-subscriptions/{sub['id']}"))[0] == 404
    assert (await api.call("GET", "/api/report-subscriptions"))[1] == {"subscriptions": []}
