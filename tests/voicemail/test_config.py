"""Voicemail numbers in the number plan: a mailbox (queue or agent) with an address."""

from __future__ import annotations

import pytest

from config import ConfigError, parse_config

BASE = (
    '[api]\ntokens = ["a-long-token"]\n[answer_groups.g]\n'
    '[queues.q]\nanswer_groups = ["g"]\n'
    '[agents.1001]\nname = "A"\nsip_password = "secret1001"\n'
)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="bad.toml")
    return info.value.problems


def test_voicemail_for_a_queue_and_for_an_agent() -> None:
    text = BASE.replace(
        'answer_groups = ["g"]\n', 'answer_groups = ["g"]\nvoicemail_email = "q@x.se"\n'
    )
    text = text.replace(
        'sip_password = "secret1001"\n', 'sip_password = "secret1001"\nemail = "a@x.se"\n'
    )
    cfg = parse_config(
        text + '[numbers]\n"192" = { service = "voicemail", queue = "q" }\n'
        '"193" = { service = "voicemail", agent = "1001" }\n'
    )
    assert cfg.numbers["192"].queue == "q" and cfg.numbers["193"].agent == "1001"


def test_voicemail_needs_exactly_one_mailbox() -> None:
    (msg,) = problems(BASE + '[numbers]\n"192" = { service = "voicemail" }\n')
    assert msg.startswith("bad.toml: numbers.192: ") and "exactly one of 'queue' or 'agent'" in msg


def test_voicemail_mailbox_without_address_is_refused() -> None:
    (msg,) = problems(BASE + '[numbers]\n"192" = { service = "voicemail", queue = "q" }\n')
    assert msg == ("bad.toml: numbers.192: voicemail for queue 'q' needs queues.q.voicemail_email")
    (msg,) = problems(BASE + '[numbers]\n"193" = { service = "voicemail", agent = "1001" }\n')
    assert msg == "bad.toml: numbers.193: voicemail for agent '1001' needs agents.1001.email"


def test_unknown_agent_mailbox() -> None:
    (msg,) = problems(BASE + '[numbers]\n"193" = { service = "voicemail", agent = "9" }\n')
    assert msg == "bad.toml: numbers.193.agent: unknown agent '9'"


def test_agent_is_only_for_voicemail() -> None:
    (msg,) = problems(BASE + '[numbers]\n"100" = { queue = "q", agent = "1001" }\n')
    assert "only for service" in msg


def test_email_addresses_are_checked() -> None:
    text = BASE.replace(
        'sip_password = "secret1001"\n', 'sip_password = "secret1001"\nemail = "not an address"\n'
    )
    (msg,) = problems(text)
    assert msg.startswith("bad.toml: agents.1001.email: ")
