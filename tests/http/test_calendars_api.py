"""Calendar explanation API: open/closed at a moment, the deciding rule and the next change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from config import parse_config
from tests.http.conftest import Api
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

# Base: weekdays 08-17 with a lunch deviation that carries its own prompt; sales has its own
# evening calendar.
CALENDARS = """
[[calendars.base.deviations]]
name = "lunch"
status = "closed"
weekdays = ["mon", "tue", "wed", "thu", "fri"]
time = "12:00-13:00"
prompt = { sv = "lunch-sv", en = "lunch-en" }

[calendars.evening]
timezone = "Europe/Stockholm"
closed_on_holidays = false
hours = { mon = ["18:00-22:00"] }
"""
WEEKDAYS_8_17 = (
    'hours = { mon = ["08:00-17:00"], tue = ["08:00-17:00"], wed = ["08:00-17:00"], '
    'thu = ["08:00-17:00"], fri = ["08:00-17:00"] }'
)


def config_text(tmp_path: Path) -> str:
    text = demo_toml_with(
        tmp_path,
        replace={
            'overflow_queue = "support"': 'overflow_queue = "support"\ncalendar = "evening"',
            "closed_on_holidays = false": "closed_on_holidays = true",
        },
        extra=CALENDARS,
    )
    start = text.index('hours = { mon = ["00:00-24:00"]')
    end = text.index("\n", start)
    return text[:start] + WEEKDAYS_8_17 + text[end:]


@pytest.fixture
async def cal_api(tmp_path: Path) -> AsyncIterator[Api]:
    server = VaxelServer(parse_config(config_text(tmp_path), source="test.toml"), base_dir=tmp_path)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(server, session, server.http_url)
    finally:
        await server.stop()


async def test_lists_calendars_and_each_queues_effective_calendar(cal_api: Api) -> None:
    status, body = await cal_api.call("GET", "/api/calendars")
    assert status == 200
    assert body == {
        "calendars": ["base", "evening"],
        "queues": {"support": "base", "sales": "evening"},
    }


async def test_closed_deviation_is_explained_with_its_prompt(cal_api: Api) -> None:
    # Monday 2025-09-15 12:30 in Stockholm (CEST, +02:00).
    status, body = await cal_api.call(
        "GET", "/api/calendars/base/status?at=2025-09-15T12:30:00%2B02:00"
    )
    assert status == 200, body
    assert body["open"] is False and body["rule"] == "deviation"
    assert body["deviation"] == {"number": 1, "name": "lunch", "status": "closed"}
    assert body["prompt"] == {"sv": "lunch-sv", "en": "lunch-en"}
    assert body["next_change"] == "2025-09-15T13:00:00+02:00" and body["next_status"] == "open"


async def test_base_hours_and_holiday_decisions(cal_api: Api) -> None:
    _, body = await cal_api.call("GET", "/api/calendars/support/status?at=2025-09-15T09:00:00Z")
    assert (body["open"], body["rule"], body["queue"]) == (True, "base", "support")
    assert body["detail"] == "base hours Mon 08:00-17:00"
    assert body["next_change"] == "2025-09-15T12:00:00+02:00"
    _, body = await cal_api.call("GET", "/api/calendars/base/status?at=2025-12-25T10:00:00%2B01:00")
    assert (body["open"], body["rule"], body["holiday"]) == (False, "holiday", "Juldagen")
    assert body["skipped_on_holiday"] == []


async def test_a_weekly_deviation_on_a_holiday_is_listed_as_not_applied(cal_api: Api) -> None:
    # Ascension Day 2025, a Thursday, in the weekday lunch hour.
    _, body = await cal_api.call("GET", "/api/calendars/base/status?at=2025-05-29T12:30:00%2B02:00")
    assert (body["open"], body["rule"]) == (False, "holiday")
    assert body["skipped_on_holiday"] == [{"number": 1, "name": "lunch"}]


async def test_queue_id_gives_its_own_calendar(cal_api: Api) -> None:
    _, body = await cal_api.call(
        "GET", "/api/calendars/sales/status?at=2025-09-15T12:30:00%2B02:00"
    )
    assert body["calendar"] == "evening" and body["queue"] == "sales"
    assert body["open"] is False and body["detail"] == "outside base hours Mon 18:00-22:00"
    assert body["next_change"] == "2025-09-15T18:00:00+02:00"


async def test_default_time_is_now_and_errors_are_clear(cal_api: Api) -> None:
    status, body = await cal_api.call("GET", "/api/calendars/base/status")
    assert status == 200 and isinstance(body["open"], bool)
    status, body = await cal_api.call("GET", "/api/calendars/nope/status")
    assert status == 404 and "'nope'" in body["error"]["message"]
    status, body = await cal_api.call("GET", "/api/calendars/base/status?at=soon")
    assert status == 400 and "'at'" in body["error"]["message"]


def test_config_text_is_valid(tmp_path: Path) -> None:
    config = parse_config(config_text(tmp_path), source="test.toml")
    assert config.queues["sales"].calendar == "evening"
