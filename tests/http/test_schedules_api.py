"""Scheduled logins over HTTP: the rules, the staffing view, the login itself, a restart."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config import parse_config
from tests.http.conftest import Api
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

ZONE = ZoneInfo("Europe/Stockholm")


def _today() -> datetime:
    return datetime.now(ZONE)


def _body(
    agent: str = "1001",
    days: tuple[int, int] = (1, 5),
    hours: tuple[str, str] = ("08:00", "17:00"),
    **extra: object,
) -> dict:
    day = _today().date()
    return {
        "agent": agent,
        "first_day": (day + timedelta(days=days[0])).isoformat(),
        "last_day": (day + timedelta(days=days[1])).isoformat(),
        "start": hours[0],
        "end": hours[1],
        **extra,
    }


def _now_window() -> tuple[str, str]:
    """A window around now (today), whole minutes, inside the day (a run in the last
    minutes before midnight first waits for the new day: no window fits then)."""
    now = _today()
    if now.hour == 23 and now.minute >= 57:
        time.sleep(61 + (59 - now.minute) * 60 + (60 - now.second))
        now = _today()
    start = max(now - timedelta(hours=1), now.replace(hour=0, minute=0))
    end = min(now + timedelta(hours=1), now.replace(hour=23, minute=59))
    return start.strftime("%H:%M"), end.strftime("%H:%M")


async def test_a_schedule_is_stored_listed_and_shown_in_the_staffing_view(api: Api) -> None:
    status, body = await api.call("POST", "/api/schedules", _body())
    assert status == 201, body
    sid = body["schedule"]["id"]
    assert body["schedule"]["zone"] == "Europe/Stockholm" and body["schedule"]["number"] is None
    status, listed = await api.call("GET", "/api/schedules")
    assert [s["id"] for s in listed["schedules"]] == [sid]
    day = _today().date()
    q = f"?from={(day + timedelta(days=2)).isoformat()}&to={(day + timedelta(days=3)).isoformat()}"
    status, view = await api.call("GET", "/api/staffing" + q)
    assert status == 200
    assert [(r["agent"], r["start"], r["end"]) for r in view["planned"]] == [
        ("1001", "08:00", "17:00"),
        ("1001", "08:00", "17:00"),
    ]
    status, audit = await api.call("GET", "/api/audit?action=schedule.created")
    assert [e["target"] for e in audit["entries"]] == [f"schedule {sid}"]


async def test_an_overlapping_schedule_of_the_same_agent_is_refused(api: Api) -> None:
    await api.call("POST", "/api/schedules", _body())
    status, body = await api.call(
        "POST", "/api/schedules", _body(days=(3, 9), hours=("16:00", "20:00"))
    )
    assert status == 409 and "overlaps schedule" in body["error"]["message"], body
    status, _ = await api.call("POST", "/api/schedules", _body(agent="1002"))
    assert status == 201


async def test_bad_fields_are_named(api: Api) -> None:
    cases = [
        (_body(start="8am"), "start: expected a time HH:MM"),
        (_body(hours=("17:00", "08:00")), "end: must be after start"),
        (_body(days=(-9, -5)), "last_day: the schedule would be over already"),
        ({**_body(), "first_day": "tomorrow"}, "first_day: expected a date"),
        (_body(agent="9999"), "agent: unknown agent '9999'"),
    ]
    for payload, message in cases:
        status, body = await api.call("POST", "/api/schedules", payload)
        assert status in (400, 404) and message in body["error"]["message"], (payload, body)
    status, listed = await api.call("GET", "/api/schedules")
    assert listed["schedules"] == []  # nothing stored by a refusal


async def test_only_future_schedules_can_be_deleted(api: Api) -> None:
    _, future = await api.call("POST", "/api/schedules", _body())
    status, _ = await api.call("DELETE", f"/api/schedules/{future['schedule']['id']}")
    assert status == 200
    _, ongoing = await api.call("POST", "/api/schedules", _body(days=(-2, 3)))
    status, body = await api.call("DELETE", f"/api/schedules/{ongoing['schedule']['id']}")
    assert status == 409 and "only future schedules can be deleted" in body["error"]["message"]
    status, _ = await api.call("DELETE", "/api/schedules/424242")
    assert status == 404


async def test_a_schedule_whose_window_is_open_logs_the_agent_in_on_its_number(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/schedules", _body(days=(0, 2), hours=_now_window(), number="0709999999")
    )
    assert status == 201, body
    view = api.server.calls.acd.agent_view("1001")  # type: ignore[union-attr]
    assert (view.state.value, view.device) == ("ready", "tel:0709999999")


async def test_a_start_missed_while_the_server_was_down_is_applied_at_the_next_start(
    tmp_path: Path,
) -> None:
    text = demo_toml_with(tmp_path)
    first = VaxelServer(parse_config(text, source="t.toml"), base_dir=tmp_path)
    await first.start()
    try:
        assert first.calls is not None
        from vaxel.services import Actor

        await first.calls.schedules.create(
            Actor(None, "api"), _body(agent="1002", days=(0, 1), hours=_now_window())
        )
        await first.calls.runner.apply(first.calls.acd.agent_logout, "1002", reason="test")
    finally:
        await first.stop()
    second = VaxelServer(parse_config(text, source="t.toml"), base_dir=tmp_path)
    await second.start()
    try:
        assert second.calls is not None
        view = second.calls.acd.agent_view("1002")
        assert view.state.value == "ready" and view.device == "tel:0701001002", view
    finally:
        await second.stop()
