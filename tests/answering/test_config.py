"""Companies in the configuration: a valid file loads; each mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, parse_config

from .companies import config_text


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="t.toml")
    return str(info.value)


def test_the_example_loads_with_staff_and_absence(tmp_path: Path) -> None:
    config = parse_config(config_text(tmp_path), source="t.toml")
    acme = config.companies["acme"]
    assert acme.numbers == ["0850001"] and [s.name for s in acme.staff] == ["Eva Ek", "Olle Strom"]
    assert acme.staff[0].absence is not None and acme.staff[0].absence.until is not None


def test_a_company_number_must_be_in_the_plan_and_lead_to_a_queue(tmp_path: Path) -> None:
    text = config_text(tmp_path).replace('numbers = ["0850001"]', 'numbers = ["0850002", "190"]')
    found = problems(text)
    assert "companies.acme.numbers: number '0850002' is not in the number plan" in found
    assert "companies.acme.numbers: number '190' leads to a service, not a queue" in found


def test_unknown_calendar_bad_email_and_naive_until_name_their_keys(tmp_path: Path) -> None:
    text = config_text(tmp_path).replace('calendar = "acme-hours"', 'calendar = "nope"')
    assert "companies.acme.calendar: unknown calendar 'nope'" in problems(text)
    text = config_text(tmp_path).replace('"eva@acme.example"', '"eva at acme"')
    assert "companies.acme.staff.0.email" in problems(text)
    text = config_text(tmp_path).replace("2099-01-07T08:00:00+01:00", "2099-01-07T08:00:00")
    assert "companies.acme.staff.0.absence" in problems(text) and "offset" in problems(text)


def test_an_unknown_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    text = config_text(tmp_path).replace('name = "Acme AB"', 'name = "Acme AB"\ngreting = "x"')
    assert "companies.acme.greting" in problems(text)


def test_voicemail_listen_is_a_service_of_the_plan(tmp_path: Path) -> None:
    recording = '"191" = { service = "prompt-recording" }'
    edit = {recording: recording + '\n"193" = { service = "voicemail-listen" }'}
    config = parse_config(config_text(tmp_path, edit), source="t.toml")
    assert config.numbers["193"].service == "voicemail-listen"
