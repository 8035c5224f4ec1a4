"""[users.NAME]: who may sign in; a bad entry names the key and what to do."""

from __future__ import annotations

import pytest

from config import ConfigError, parse_config

BASE = '[api]\ntokens = ["a-long-token"]\n[agents.1001]\nname = "A"\nsip_password = "secret"\n'


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + text, source="bad.toml")
    return info.value.problems


def test_a_user_needs_exactly_one_of_password_and_hash() -> None:
    (msg,) = problems('[users.anna]\nrole = "admin"\n')
    assert msg.startswith("bad.toml: users.anna: ")
    assert "exactly one of 'password' or 'password_hash'" in msg


def test_an_agent_user_names_a_configured_agent() -> None:
    (msg,) = problems('[users.anna]\nrole = "agent"\npassword = "long enough"\n')
    assert "role 'agent' needs 'agent'" in msg
    (msg,) = problems('[users.anna]\nrole = "agent"\nagent = "1009"\npassword = "long enough"\n')
    assert msg == "bad.toml: users.anna.agent: unknown agent '1009'"


def test_one_agent_belongs_to_one_user() -> None:
    user = 'role = "agent"\nagent = "1001"\npassword = "long enough"\n'
    (msg,) = problems(f"[users.anna]\n{user}[users.bo]\n{user}")
    assert msg == "bad.toml: users.bo.agent: agent '1001' already belongs to user 'anna'"


def test_role_and_hash_format_are_checked() -> None:
    (msg,) = problems('[users.anna]\nrole = "boss"\npassword = "long enough"\n')
    assert msg.startswith("bad.toml: users.anna.role: ") and "'admin'" in msg
    (msg,) = problems('[users.anna]\nrole = "admin"\npassword_hash = "plain"\n')
    assert msg.startswith("bad.toml: users.anna.password_hash: has an invalid format")


def test_a_hash_is_accepted_as_is() -> None:
    digest = "$argon2id$v=19$m=19456,t=2,p=1$x$y"
    cfg = parse_config(BASE + f'[users.anna]\nrole = "manager"\npassword_hash = "{digest}"\n')
    assert cfg.users["anna"].password is None and cfg.users["anna"].role == "manager"
