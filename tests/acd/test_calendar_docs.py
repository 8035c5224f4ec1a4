"""The TOML examples in docs/calendars.md load and behave as the text says."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from acd.calendar import CalendarSet

DOC = Path(__file__).resolve().parents[2] / "docs" / "calendars.md"
STHLM = ZoneInfo("Europe/Stockholm")


def _examples() -> CalendarSet:
    base_toml, queue_toml = re.findall(r"```toml\n(.*?)```", DOC.read_text("utf-8"), re.S)
    base = tomllib.loads(base_toml)["calendars"]["base"]
    queue_doc = tomllib.loads(queue_toml)
    own = queue_doc["calendars"][queue_doc["queues"]["support"]["calendar"]]
    return CalendarSet.from_config(base=base, queues={"support": own})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STHLM)


def test_documented_examples_decide_as_described() -> None:
    cals = _examples()
    lunch = cals.status("sales", at("2025-09-17 12:30"))
    assert not lunch.open and lunch.prompt == {"sv": "lunchstangt", "en": "lunch-closed"}
    assert not cals.status("sales", at("2025-09-19 15:30")).open  # Friday after 15
    assert cals.status("sales", at("2025-09-18 19:00")).open  # late Thursday
    ascension = cals.status("sales", at("2025-05-29 19:00"))  # a Thursday, but a holiday
    assert not ascension.open and ascension.skipped_on_holiday == (2,)
    assert not cals.status("sales", at("2026-12-24 19:00")).open  # Christmas Eve, a Thursday
    assert cals.status("sales", at("2025-06-21 11:00")).open  # Saturday duty on Midsummer Day
    assert cals.status("sales", at("2025-09-20 11:00")).open  # and on any Saturday
    assert cals.status("sales", at("2031-12-24 10:00")).open  # Christmas Eve morning, any year
    assert not cals.status("sales", at("2031-12-24 13:00")).open
    assert cals.status("support", at("2025-09-20 13:00")).open  # support's own Saturday
    assert not cals.status("sales", at("2025-09-20 13:00")).open
