"""Flows from the configuration file: validation messages, the builder, flow choice per number."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.calendar import Calendar
from config import ConfigError, VaxelConfig, parse_config
from ivr import FlowPlan, FlowState, Outcome
from tests.ivr.test_flow import WEEKDAYS_8_17, ScriptedCaller, Services
from tests.support import demo_toml_with

OPEN = Calendar.from_dict(WEEKDAYS_8_17)
SUNDAY_CLOSED = Calendar.from_dict({**WEEKDAYS_8_17, "deviations": [{"status": "closed"}]})

FLOWS = """
[flows.support]
steps = ["hot-prompt", "calendar", "welcome", "menu", "queue"]
closed = ["closed-message", "voicemail"]

[flows.support.menu]
prompt = "menu-example"
retries = 1
timeout = 4
[flows.support.menu.choices]
"1" = { queue = "sales" }
"2" = { service = "voicemail" }
"3" = { number = "105" }

[flows.vip]
steps = ["welcome", { customer-number = { prompt = "enter-pin", max_digits = 6 } }, "queue"]
"""
NUMBERS = (
    '"100" = { queue = "support", flow = "support" }\n'
    '"105" = { queue = "support", flow = "vip" }\n'
    '"101" = { queue = "sales" }'
)


def config(
    tmp_path: Path, flows: str = FLOWS, numbers: str = NUMBERS, replace: dict | None = None
) -> VaxelConfig:
    edits = {
        '"100" = { queue = "support" }\n"101" = { queue = "sales" }': numbers,
        **(replace or {}),
    }
    return parse_config(demo_toml_with(tmp_path, replace=edits, extra=flows), source="v.toml")


def problems(tmp_path: Path, flows: str, numbers: str = NUMBERS) -> str:
    with pytest.raises(ConfigError) as err:
        config(tmp_path, flows, numbers)
    return "\n".join(err.value.problems)


async def test_demo_configuration_uses_the_builtin_default_flow(tmp_path: Path) -> None:
    cfg = parse_config(demo_toml_with(tmp_path), source="demo.toml")
    plan = FlowPlan.from_config(cfg)
    assert plan.flow_name("100", "support") is None
    ch = ScriptedCaller()
    out = await plan.run("100", ch, Services(OPEN, hot=["outage"]), FlowState("support"))
    assert out == Outcome("queue", queue="support")
    assert ch.played == ["outage", "support-welcome"]


def test_flow_is_chosen_by_number_then_queue_then_default(tmp_path: Path) -> None:
    flows = FLOWS + '[flows.default]\nsteps = ["queue"]\n[flows.sales]\nsteps = ["welcome"]\n'
    cfg = config(
        tmp_path,
        flows,
        replace={'overflow_queue = "support"': 'overflow_queue = "support"\nflow = "sales"'},
    )
    plan = FlowPlan.from_config(cfg)
    assert plan.flow_name("100", "support") == "support"
    assert plan.flow_name("101", "sales") == "sales"
    assert plan.flow_name("102", "support") == "default"


async def test_menu_key_switches_queue_and_the_flow_goes_on_to_the_queue(tmp_path: Path) -> None:
    plan = FlowPlan.from_config(config(tmp_path))
    ch = ScriptedCaller(keys=["1"])
    out = await plan.run("100", ch, Services(OPEN), FlowState("support"))
    assert out == Outcome("queue", queue="sales")
    assert ch.played == ["support-welcome", "menu-example"]
    assert ("menu_choice", {"key": "1", "target": "sales"}) in ch.logged


async def test_menu_key_to_voicemail_hands_over_to_the_service(tmp_path: Path) -> None:
    plan = FlowPlan.from_config(config(tmp_path))
    out = await plan.run(
        "100", ScriptedCaller(keys=["9", "2"]), Services(OPEN), FlowState("support")
    )
    assert out == Outcome("voicemail", queue="support", service="voicemail")


async def test_menu_key_to_another_number_continues_in_that_numbers_flow(tmp_path: Path) -> None:
    plan = FlowPlan.from_config(config(tmp_path))
    ch = ScriptedCaller(keys=["3", "4711"])
    out = await plan.run("100", ch, Services(OPEN), FlowState("support"))
    assert out == Outcome("queue", queue="support", priority=50)  # the CRM match's priority
    assert ch.played == ["support-welcome", "menu-example", "support-welcome", "enter-pin"]
    assert ("flow_jump", {"number": "105"}) in ch.logged


async def test_no_valid_key_after_the_retries_stays_in_the_queue(tmp_path: Path) -> None:
    plan = FlowPlan.from_config(config(tmp_path))
    ch = ScriptedCaller(keys=["7"])  # then silence
    out = await plan.run("100", ch, Services(OPEN), FlowState("support"))
    assert out == Outcome("queue", queue="support")
    assert ch.played == ["support-welcome", "menu-example", "invalid-choice", "menu-example"]


async def test_closed_plays_the_closed_message_then_goes_to_voicemail(tmp_path: Path) -> None:
    plan = FlowPlan.from_config(config(tmp_path))
    ch = ScriptedCaller()
    out = await plan.run("100", ch, Services(SUNDAY_CLOSED), FlowState("support"))
    assert out == Outcome("voicemail", queue="support", service="voicemail")
    assert ch.played == ["closed"]
    assert ch.logged[0][0] == "closed"


async def test_closed_without_voicemail_ends_as_closed(tmp_path: Path) -> None:
    flows = '[flows.support]\nsteps = ["calendar", "welcome"]\n'
    plan = FlowPlan.from_config(
        config(
            tmp_path,
            flows,
            '"100" = { queue = "support", flow = "support" }\n"101" = { queue = "sales" }',
        )
    )
    ch = ScriptedCaller()
    out = await plan.run("100", ch, Services(SUNDAY_CLOSED), FlowState("support"))
    assert out.kind == "closed" and ch.played == ["closed"]


MENU = '[flows.f]\nsteps = ["menu"]\n[flows.f.menu]\nprompt = "m"\n'
INLINE = '[flows.f]\nsteps = [{ menu = { prompt = "m", '
ONE = '"100" = { queue = "support", flow = "f" }\n"101" = { queue = "sales" }'


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        (
            '[flows.f]\nsteps = ["welcom"]',
            "v.toml: flows.f: steps.0: unknown step 'welcom'; steps: hot-prompt, calendar,",
        ),
        (
            '[flows.f]\nsteps = ["closed-message"]',
            "steps.0: unknown step 'closed-message' (it belongs in 'closed')",
        ),
        (
            '[flows.f]\nsteps = ["queue", "welcome"]',
            "flows.f: steps.1: nothing runs after 'queue'; it ends the flow",
        ),
        (
            '[flows.f]\nsteps = ["menu"]',
            "flows.f: steps.0: step 'menu' needs its settings: a [flows.<id>.menu] table",
        ),
        (
            MENU + 'choices = { "1" = { queue = "salse" } }',
            "v.toml: flows.f.menu.choices.1.queue: unknown queue 'salse'",
        ),
        (
            INLINE + 'choices = { "1" = { number = "999" } } } }]',
            "v.toml: flows.f.steps.0.menu.choices.1.number: unknown number '999'",
        ),
        (
            MENU + 'timeout = 0\nchoices = { "1" = { queue = "sales" } }',
            "v.toml: flows.f.menu.timeout: Input should be greater than 0",
        ),
        (
            INLINE + 'timeout = 600, choices = { "1" = { queue = "sales" } } } }]',
            "flows.f: steps.0.menu.timeout: Input should be less than or equal to 60",
        ),
        (
            MENU + 'choices = { "12" = { queue = "sales" } }',
            "flows.f.menu.choices.12.[key]",
        ),
        (
            MENU + 'choices = { "1" = { service = "pizza" } }',
            "flows.f.menu.choices.1.service",
        ),
        (
            "[flows.f]\nsteps = [{ welcome = {} }]",
            "flows.f: steps.0: 'welcome' takes no settings",
        ),
        (
            '[flows.f]\nsteps = ["welcome"]\nclosed = ["voicemail"]',
            "flows.f: closed: has no effect without a 'calendar' step",
        ),
        (
            '[flows.f]\nsteps = ["calendar"]\nclosed = ["welcome"]',
            "flows.f: closed.0: unknown step 'welcome' (closed steps: closed-message, voicemail)",
        ),
        ('[flows.g]\nsteps = ["queue"]', "v.toml: numbers.100.flow: unknown flow 'f'"),
    ],
)
def test_bad_flows_are_refused_naming_key_and_reason(
    tmp_path: Path, flows: str, expected: str
) -> None:
    assert expected in problems(tmp_path, flows, ONE)


def test_flow_on_a_service_number_is_refused(tmp_path: Path) -> None:
    numbers = NUMBERS + '\n"198" = { service = "remote-login", flow = "support" }'
    assert "numbers.198: 'flow' needs a 'queue' target" in problems(tmp_path, FLOWS, numbers)


async def test_menu_key_to_a_voicemail_number_uses_that_numbers_mailbox(tmp_path: Path) -> None:
    flows = FLOWS.replace('"3" = { number = "105" }', '"3" = { number = "198" }')
    numbers = NUMBERS + '\n"198" = { service = "voicemail", queue = "sales" }'
    plan = FlowPlan.from_config(
        config(
            tmp_path,
            flows,
            numbers,
            replace={"[queues.sales]\n": '[queues.sales]\nvoicemail_email = "sales@localhost"\n'},
        )
    )
    out = await plan.run("100", ScriptedCaller(keys=["3"]), Services(OPEN), FlowState("support"))
    assert out == Outcome("voicemail", queue="sales", service="voicemail")


class TypeAheadCaller(ScriptedCaller):
    """Like the real leg: a key pressed during a prompt stops it, is returned, stays buffered."""

    async def play(self, prompts, *, barge_in: bool = False):  # noqa: ANN001, ANN201
        self.played.extend(prompts)
        return self._keys[0][:1] if barge_in and self._keys else None


async def test_key_pressed_during_the_menu_prompt_is_used_once(tmp_path: Path) -> None:
    menu = '{ menu = { prompt = "m", choices = { "1" = { queue = "sales" } } } }'
    cn = '{ customer-number = { prompt = "cn" } }'
    flows = f'[flows.f]\nsteps = [{menu}, {cn}, "queue"]\n'
    plan = FlowPlan.from_config(config(tmp_path, flows, ONE))
    ch = TypeAheadCaller(keys=["1", "4711"])
    out = await plan.run("100", ch, Services(OPEN), FlowState("support"))
    assert out == Outcome("queue", queue="sales", priority=50)
    # The CRM's match goes into the call log too (the agent client's screen pop shows it).
    logged = ("customer_number", {"digits": "4711", "matched": True, "customer_id": "4711",
                                  "name": "VIP AB"})  # fmt: skip
    assert logged in ch.logged
