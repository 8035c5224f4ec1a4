"""Voicemail in the configuration: numbers and mailboxes, message lengths, mail retries."""

from __future__ import annotations

import pytest

from config import ConfigError, load_config, parse_config
from ivr.voicemail import VoicemailSettings
from vaxel.voicemail import RETRY_DELAYS

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


# --- [voicemail] and [smtp] timeout: message lengths and mail retries (docs/operations.md)


def test_defaults_are_the_lengths_and_retries_vaxel_always_had() -> None:
    cfg = load_config()  # the demo configuration has no [voicemail] table
    assert cfg.voicemail.settings() == VoicemailSettings()
    assert cfg.voicemail.settings() == VoicemailSettings(180.0, 6.0, 1.0)
    assert tuple(cfg.voicemail.mail_retry_delays) == RETRY_DELAYS == (30, 120, 600, 1800)
    assert cfg.smtp.timeout == 30.0


def test_configured_lengths_and_retries_are_read() -> None:
    cfg = parse_config(
        BASE + "[voicemail]\nmax_seconds = 60\nsilence_seconds = 3.5\nmin_seconds = 0\n"
        "mail_retry_delays = [10, 60]\n[smtp]\ntimeout = 5\n"
    )
    assert cfg.voicemail.settings() == VoicemailSettings(60.0, 3.5, 0.0)
    assert cfg.voicemail.mail_retry_delays == [10.0, 60.0] and cfg.smtp.timeout == 5.0
    # No retries at all: the first failure marks the mail failed (it can be resent).
    assert (
        parse_config(BASE + "[voicemail]\nmail_retry_delays = []\n").voicemail.mail_retry_delays
        == []
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "[voicemail]\nmax_seconds = 0",
            "bad.toml: voicemail.max_seconds: Input should be greater than 0, got 0",
        ),
        (
            "[voicemail]\nmax_seconds = -30",
            "bad.toml: voicemail.max_seconds: Input should be greater than 0, got -30",
        ),
        (
            "[voicemail]\nmax_seconds = 7200",
            "bad.toml: voicemail.max_seconds: Input should be less than or equal to 3600, got 7200",
        ),
        (
            "[voicemail]\nsilence_seconds = 0",
            "bad.toml: voicemail.silence_seconds: Input should be greater than 0, got 0",
        ),
        (
            "[voicemail]\nmin_seconds = -1",
            "bad.toml: voicemail.min_seconds: Input should be greater than or equal to 0, got -1",
        ),
        (
            "[voicemail]\nmax_seconds = 60\nsilence_seconds = 60",
            "bad.toml: voicemail.silence_seconds: must be less than max_seconds (60), "
            "or silence could never end a message, got 60",
        ),
        (
            "[voicemail]\nmax_seconds = 5",  # the default silence_seconds is checked too
            "bad.toml: voicemail.silence_seconds: must be less than max_seconds (5), "
            "or silence could never end a message, got 6.0",
        ),
        (
            "[voicemail]\nmin_seconds = 200",
            "bad.toml: voicemail.min_seconds: must be less than max_seconds (180), "
            "or every message would be dropped, got 200",
        ),
        (
            "[voicemail]\nmail_retry_delays = [30, 600, 600]",
            "bad.toml: voicemail.mail_retry_delays: each delay must be longer than the one "
            "before, but 600 follows 600",
        ),
        (
            "[voicemail]\nmail_retry_delays = [120, 30]",
            "bad.toml: voicemail.mail_retry_delays: each delay must be longer than the one "
            "before, but 30 follows 120",
        ),
        (
            "[voicemail]\nmail_retry_delays = [0, 30]",
            "bad.toml: voicemail.mail_retry_delays.0: Input should be greater than 0, got 0",
        ),
        (
            "[voicemail]\nmail_retry_delays = 30",
            "bad.toml: voicemail.mail_retry_delays: Input should be a valid list, got 30",
        ),
        ("[voicemail]\nmax_length = 60", "bad.toml: voicemail.max_length: unknown key"),
        ("[smtp]\ntimeout = 0", "bad.toml: smtp.timeout: Input should be greater than 0, got 0"),
    ],
)
def test_bad_voicemail_settings_name_the_key_and_the_reason(table: str, expected: str) -> None:
    assert problems(BASE + table + "\n") == [expected]
