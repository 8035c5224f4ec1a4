"""Configuration: a bad file gives one clear message naming file, key path and reason."""

from __future__ import annotations

import pytest

from config import ConfigError, load_config, parse_config
from config.loader import DEMO_CONFIG

MINIMAL = '[api]\ntokens = ["a-long-token"]\n'


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="bad.toml")
    return info.value.problems


def test_demo_config_defines_the_contract_numbers_and_agents() -> None:
    cfg = load_config()
    assert cfg.sip.host == "127.0.0.1" and cfg.sip.port == 5060
    assert set(cfg.sip.transports) == {"udp", "tcp"}
    assert (cfg.rtp.port_min, cfg.rtp.port_max) == (20000, 20999)
    assert (cfg.http.host, cfg.http.port) == ("127.0.0.1", 8080)
    assert cfg.numbers["100"].queue == "support"
    assert cfg.numbers["101"].queue == "sales"
    assert cfg.numbers["190"].service == "remote-login"
    assert cfg.numbers["191"].service == "prompt-recording"
    assert sorted(cfg.agents) == ["1001", "1002", "1003", "1004"]
    assert all(a.sip_password and a.remote_number for a in cfg.agents.values())
    assert set(cfg.answer_groups) == {"support", "sales"}
    assert cfg.api.tokens


def test_wrong_type_names_the_key_and_the_value() -> None:
    (msg,) = problems(MINIMAL + '[sip]\nport = "five"\n')
    assert msg.startswith("bad.toml: sip.port: ")
    assert "integer" in msg and "'five'" in msg


def test_unknown_key_is_an_error_not_ignored() -> None:
    (msg,) = problems(MINIMAL + "[sip]\nprot = 5060\n")
    assert msg == "bad.toml: sip.prot: unknown key"


def test_duplicate_number_names_the_line() -> None:
    text = MINIMAL + (
        '[answer_groups.g]\n[queues.q]\nanswer_groups = ["g"]\n'
        '[numbers]\n"100" = { queue = "q" }\n"100" = { queue = "q" }\n'
    )
    (msg,) = problems(text)
    assert "line 8:" in msg and "duplicate key '100'" in msg and "[numbers]" in msg


def test_unknown_queue_in_number_plan() -> None:
    (msg,) = problems(MINIMAL + '[numbers]\n"100" = { queue = "suport" }\n')
    assert msg == "bad.toml: numbers.100.queue: unknown queue 'suport'"


def test_number_needs_exactly_one_target() -> None:
    (msg,) = problems(MINIMAL + '[numbers]\n"100" = { }\n')
    assert "numbers.100" in msg and "exactly one of 'queue' or 'service'" in msg


def test_duplicate_remote_number_between_agents_is_refused() -> None:
    text = MINIMAL + (
        '[agents.a]\nname="A"\nsip_password="pass1"\nremote_number="0701"\n'
        '[agents.b]\nname="B"\nsip_password="pass2"\nalternative_number="0701"\n'
    )
    (msg,) = problems(text)
    assert "agents.b.alternative_number: duplicate number 0701" in msg


def test_several_problems_are_all_reported() -> None:
    found = problems('[api]\ntokens = ["short"]\n[http]\nport = 0\n')
    assert len(found) == 2
    assert any(p.startswith("bad.toml: api.tokens.0:") for p in found)
    assert any(p.startswith("bad.toml: http.port:") for p in found)


def test_invalid_toml_syntax() -> None:
    (msg,) = problems("[api\n")
    assert msg.startswith("bad.toml: invalid TOML")


def test_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert info.value.problems == [f"{tmp_path / 'nope.toml'}: file not found"]


def test_demo_config_file_is_shipped_in_the_package() -> None:
    assert DEMO_CONFIG.name == "demo.toml" and DEMO_CONFIG.is_file()


QUEUE = MINIMAL + '[answer_groups.g]\n[queues.q]\nanswer_groups = ["g"]\n'


def test_failed_offer_retry_defaults_to_a_few_seconds_and_reaches_the_acd() -> None:
    from vaxel.calls.directory import _queue

    cfg = parse_config(QUEUE)
    assert cfg.queues["q"].failed_offer_retry == 5.0
    cfg = parse_config(QUEUE + "failed_offer_retry = 2.5\n")
    assert _queue("q", cfg).failed_offer_retry == 2.5


@pytest.mark.parametrize("bad", ["-1", "601"])
def test_failed_offer_retry_out_of_range_is_explained(bad: str) -> None:
    (msg,) = problems(QUEUE + f"failed_offer_retry = {bad}\n")
    assert msg.startswith("bad.toml: queues.q.failed_offer_retry: expected seconds (0 to 600)")
    assert msg.endswith(f"got {float(bad)!r}") or msg.endswith(f"got {int(bad)!r}")


def test_a_calendar_error_names_the_value_once() -> None:
    (msg,) = problems(MINIMAL + '[[calendars.base.deviations]]\nstatus = "open"\ntime = "12-13"\n')
    assert msg == (
        "bad.toml: calendars.base.deviations.0.time: expected \"HH:MM-HH:MM\", got '12-13'"
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('"voicemail"', "voicemail needs the queue's voicemail_email (the mailbox)"),
        ('"number:999"', "number '999' is not in the number plan"),
        ('"nowhere"', "expected 'voicemail', 'number:NNN' or a queue id, got 'nowhere'"),
        ('"q"', "a queue cannot overflow to itself"),
    ],
)
def test_an_overflow_target_outside_the_queues_is_checked(value: str, why: str) -> None:
    (msg,) = problems(QUEUE + f"overflow_target = {value}\n")
    assert msg == f"bad.toml: queues.q.overflow_target: {why}"


def test_an_overflow_target_reaches_the_acd_as_the_queues_overflow() -> None:
    from vaxel.calls.directory import _queue

    cfg = parse_config(QUEUE + 'max_wait = 60\nvoicemail_email = "q@localhost"\n'
                       'overflow_target = "voicemail"\n')  # fmt: skip
    assert _queue("q", cfg).max_wait_target == "voicemail"


def test_classification_profiles_are_checked_and_reach_the_acd() -> None:
    from vaxel.calls.directory import _queue

    profile = '[classification_profiles.sales]\ncodes = ["order", "question"]\nrequired = false\n'
    cfg = parse_config(QUEUE + 'classification_profile = "sales"\n' + profile)
    q = _queue("q", cfg)
    assert (q.classification_profile, q.classification_codes) == ("sales", ("order", "question"))
    assert q.classification_required is False
    (msg,) = problems(QUEUE + 'classification_profile = "nope"\n')
    assert msg == "bad.toml: queues.q.classification_profile: unknown profile 'nope'"
    (msg,) = problems(MINIMAL + '[classification_profiles.p]\ncodes = ["a", "b", "a"]\n')
    assert msg.startswith("bad.toml: classification_profiles.p:") and "a given more than" in msg


def test_security_is_on_by_default_with_the_documented_limits() -> None:
    sec = load_config().security
    assert sec.enabled and sec.trust_trunks and sec.trusted == []
    assert (sec.rate.invite.rate, sec.rate.invite.burst) == (10, 30)
    assert (sec.rate.register_.rate, sec.max_early_dialogs, sec.ban_seconds) == (10, 20, 300)
    assert (sec.auth.user_failures, sec.auth.source_failures) == (5, 10)
    assert (sec.tcp.max_connections, sec.tcp.read_timeout) == (512, 10)


@pytest.mark.parametrize(
    ("fragment", "problem"),
    [
        (
            '[security]\ntrusted = ["10.0.0.0/8", "office"]',
            "security.trusted: expected an IP address or a network in CIDR form (10.0.0.0/8), "
            "got 'office'",
        ),
        ("[security.rate]\ninvite = { rate = 0, burst = 5 }", "security.rate.invite.rate"),
        ("[security.rate]\nregister = { rate = 5 }", "security.rate.register.burst"),
        ("[security.rate]\npublish = { rate = 5, burst = 5 }", "security.rate.publish: unknown"),
        ("[security]\nban_seconds = 600\nban_max_seconds = 60", "ban_max_seconds (60) must be"),
        ("[security.auth]\nlock_seconds = 900\nmax_lock_seconds = 60", "max_lock_seconds must"),
        ("[security.tcp]\nread_timeout = 0", "security.tcp.read_timeout"),
        ("[security]\nmax_early_dialogs = -1", "security.max_early_dialogs"),
    ],
)
def test_a_bad_security_key_is_named_with_what_is_expected(fragment: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(DEMO_CONFIG.read_text() + "\n" + fragment + "\n", source="c.toml")
    assert problem in str(info.value), str(info.value)
