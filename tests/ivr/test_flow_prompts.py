"""Prompt names in flows: impossible names refused in the file, missing audio at call time
skipped without dead air (docs/ivr.md, "Prompts named in flows")."""

from __future__ import annotations

from pathlib import Path

from acd.calendar import Calendar
from ivr import FlowPlan, FlowState, Outcome
from tests.ivr.test_flow import WEEKDAYS_8_17, ScriptedCaller, Services
from tests.ivr.test_flow_config import FLOWS, ONE, config, problems

OPEN = Calendar.from_dict(WEEKDAYS_8_17)
LONG = "a-name-of-forty-characters-is-too-longer"
MENU = """
[flows.f]
steps = ["welcome", "menu", { customer-number = { prompt = "key-number" } }, "queue"]
[flows.f.menu]
prompt = "support-menu"
no_choice = { queue = "sales" }
[flows.f.menu.choices]
"1" = { queue = "support" }
"""
DEVIATION = """
[[calendars.base.deviations]]
status = "closed"
date = 2026-12-24
prompt = { sv = "julstangt", en = "christmas-closed" }
"""


def test_every_prompt_a_flow_or_closed_deviation_names_is_listed_with_its_key(
    tmp_path: Path,
) -> None:
    cfg = config(tmp_path, FLOWS + DEVIATION)
    assert cfg.prompt_uses() == [
        ("flows.keypad.menu.prompt", "menu-example"),  # the demo's own flow
        ("flows.keypad.menu.invalid_prompt", "invalid-choice"),
        ("flows.support.menu.prompt", "menu-example"),
        ("flows.support.menu.invalid_prompt", "invalid-choice"),
        ("flows.vip.steps.1.customer-number.prompt", "enter-pin"),
        ("calendars.base.deviations.0.prompt.sv", "julstangt"),
        ("calendars.base.deviations.0.prompt.en", "christmas-closed"),
    ]


def test_names_that_may_still_be_uploaded_are_accepted_by_the_file(tmp_path: Path) -> None:
    cfg = config(tmp_path, MENU, ONE)
    assert ("flows.f.menu.prompt", "support-menu") in cfg.prompt_uses()


def test_a_name_no_upload_can_have_is_refused_naming_flow_key_and_prompt(tmp_path: Path) -> None:
    msg = problems(tmp_path, MENU.replace('"support-menu"', f'"{LONG}"'), ONE)
    assert msg == (
        f"v.toml: flows.f.menu.prompt: prompt '{LONG}' can never be found: it is not a "
        "standard prompt, and stored prompts are named with 1-32 characters a-z, 0-9, '-' or '_'"
    )
    inline = MENU.replace('prompt = "key-number"', f'prompt = "{LONG}"')
    assert problems(tmp_path, inline, ONE).startswith(
        f"v.toml: flows.f.steps.2.customer-number.prompt: prompt '{LONG}' can never be found"
    )


def test_a_closed_deviation_prompt_no_upload_can_have_is_refused(tmp_path: Path) -> None:
    msg = problems(tmp_path, MENU + DEVIATION.replace('"julstangt"', '"Jul stängt"'), ONE)
    assert msg.startswith(
        "v.toml: calendars.base.deviations.0.prompt.sv: prompt 'Jul stängt' can never be found"
    )


async def test_menu_without_audio_is_skipped_without_waiting_for_a_key(tmp_path: Path) -> None:
    plan = FlowPlan.from_config(config(tmp_path, MENU, ONE))
    ch = ScriptedCaller(keys=["1", "4711"], missing=["support-menu"])
    out = await plan.run("100", ch, Services(OPEN), FlowState("support"))
    # No key was read for the unheard menu: its no_choice applies, "1" is the customer number.
    assert out == Outcome("queue", queue="sales")
    assert ch.played == ["support-welcome", "key-number"]
    assert ch.logged[:2] == [
        ("prompt_missing", {"prompt": "support-menu", "step": "menu"}),
        ("menu_no_choice", {"target": "sales"}),
    ]


async def test_menu_without_audio_and_no_choice_stays_in_the_queue(tmp_path: Path) -> None:
    flows = MENU.replace('no_choice = { queue = "sales" }\n', "")
    plan = FlowPlan.from_config(config(tmp_path, flows, ONE))
    ch = ScriptedCaller(missing=["support-menu", "key-number"])
    out = await plan.run("100", ch, Services(OPEN), FlowState("support"))
    assert out == Outcome("queue", queue="support")
    assert ch.played == ["support-welcome"]
    assert [k for k, _ in ch.logged] == ["prompt_missing", "prompt_missing"]
    assert ch.logged[1] == ("prompt_missing", {"prompt": "key-number", "step": "customer-number"})


async def test_welcome_without_audio_falls_back_to_the_standard_welcome(tmp_path: Path) -> None:
    plan = FlowPlan.from_config(config(tmp_path, "", ONE.replace(', flow = "f"', "")))
    ch = ScriptedCaller(missing=["support-welcome", "outage"])
    out = await plan.run("100", ch, Services(OPEN, hot=["outage"]), FlowState("support"))
    assert out == Outcome("queue", queue="support")
    assert ch.played == ["welcome"]
    assert ch.logged == [
        ("hot_prompt", {"prompts": ["outage"]}),
        ("prompt_missing", {"prompt": "outage"}),
        ("prompt_missing", {"prompt": "support-welcome", "instead": "welcome"}),
    ]


async def test_closed_deviation_without_audio_plays_the_night_message(tmp_path: Path) -> None:
    closed = Calendar.from_dict(
        {**WEEKDAYS_8_17, "deviations": [{"status": "closed", "prompt": {"sv": "julstangt"}}]}
    )
    plan = FlowPlan.from_config(config(tmp_path))
    ch = ScriptedCaller(missing=["julstangt"])
    out = await plan.run("100", ch, Services(closed), FlowState("support"))
    assert out == Outcome("voicemail", queue="support", service="voicemail")
    assert ch.played == ["closed"]
    assert ch.logged[0][0] == "closed" and ch.logged[0][1]["prompt"] == "closed"
    assert ch.logged[1] == ("prompt_missing", {"prompt": "julstangt", "instead": "closed"})
    # With its audio the deviation's own prompt plays, as before.
    ch = ScriptedCaller()
    await plan.run("100", ch, Services(closed), FlowState("support"))
    assert ch.played == ["julstangt"]
