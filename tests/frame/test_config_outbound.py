"""Configuration of outbound calls and direct numbers: errors name the field."""

from __future__ import annotations

import pytest

from config import ConfigError, parse_config
from vaxel.calls.outbound import outbound_policy

BASE = """
[api]
tokens = ["a-long-token"]
[answer_groups.g]
[queues.sales]
answer_groups = ["g"]
outbound_caller_id = "0812345600"
outbound_prefix = "*1"
outbound_wrap_up = 20
[agents.1001]
name = "Anna"
sip_password = "secret1001"
email = "anna@example.se"
outbound_queue = "sales"
[calendars.office]
[trunks.main]
host = "127.0.0.1"
caller_id = "0812345000"
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="bad.toml")
    return info.value.problems


def test_an_outbound_and_direct_number_configuration_loads_into_the_policy() -> None:
    cfg = parse_config(
        BASE
        + '[outbound]\nenabled = true\nallowed_prefixes = ["0"]\nblocked_prefixes = ["0900"]\n'
        + '[numbers]\n"0812345601" = { direct = "1001", calendar = "office", ring_timeout = 25 }\n'
    )
    p = outbound_policy(cfg)
    assert p.enabled and p.caller_id == "0812345000"  # the trunk's, no [outbound] caller_id
    assert p.queue_prefixes == {"*1": "sales"} and p.queue_caller_ids == {"sales": "0812345600"}
    assert p.queue_wrap_up == {"sales": 20.0} and p.agent_queues == {"1001": "sales"}
    assert cfg.numbers["0812345601"].direct == "1001"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[numbers]\n"200" = { direct = "9999" }\n', "numbers.200.direct: unknown agent '9999'"),
        (
            '[numbers]\n"200" = { direct = "1001", calendar = "nope" }\n',
            "numbers.200.calendar: unknown calendar 'nope'",
        ),
        ('[numbers]\n"200" = { direct = "1001", queue = "sales" }\n', "numbers.200:"),
        ('[numbers]\n"200" = { queue = "sales", calendar = "office" }\n', "numbers.200:"),
        ('[numbers]\n"200" = { direct = "1001", ring_seconds = 3 }\n', "numbers.200:"),
        ('[outbound]\nallowed_prefixes = ["0a"]\n', "outbound.allowed_prefixes.0:"),
        ('[outbound]\nemergency = "maybe"\n', "outbound.emergency:"),
    ],
)
def test_bad_outbound_settings_name_the_field(extra: str, expected: str) -> None:
    msgs = problems(BASE + extra)
    assert any(expected in m for m in msgs), msgs


def test_a_direct_numbers_voicemail_needs_the_agents_email() -> None:
    text = BASE.replace('email = "anna@example.se"\n', "")
    msgs = problems(text + '[numbers]\n"200" = { direct = "1001" }\n')
    assert any("numbers.200.voicemail" in m and "agents.1001.email" in m for m in msgs), msgs
    parse_config(text + '[numbers]\n"200" = { direct = "1001", voicemail = false }\n')


def test_outbound_needs_a_trunk_and_unique_queue_prefixes() -> None:
    no_trunk = BASE.split("[trunks.main]")[0] + "[outbound]\nenabled = true\n"
    assert any("outbound.enabled" in m for m in problems(no_trunk))
    twice = BASE + '[queues.support]\nanswer_groups = ["g"]\noutbound_prefix = "*1"\n'
    assert any("queues.support.outbound_prefix" in m for m in problems(twice))
    bad_queue = BASE.replace('outbound_queue = "sales"', 'outbound_queue = "nope"')
    assert any("agents.1001.outbound_queue" in m for m in problems(bad_queue))
