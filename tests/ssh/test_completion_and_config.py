"""Tab completion of the console's words, and the [ssh] / ssh_keys configuration checks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from config import ConfigError, parse_config
from tests.support import demo_toml_with
from vaxel.ssh import Console

_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDf1kM9zT3c9bZ5VqXQm0xYd1j7s6n8e2rWlC0aD4Hk7 a@b"


def _console(tmp_path: Path) -> Console:
    config = parse_config(demo_toml_with(tmp_path), source="test.toml")
    agents = [SimpleNamespace(id=a) for a in config.agents]
    stack: Any = SimpleNamespace(acd=SimpleNamespace(agent_configs=lambda: agents))
    host: Any = SimpleNamespace(config=config, calls=stack)
    console = Console(host, actor=None)  # type: ignore[arg-type]
    console._prompt_names = ["closed", "connection-warning", "welcome"]
    return console


@pytest.mark.parametrize(
    ("typed", "completed"),
    [
        ("age", "agent"),  # agent and agents share "agent"
        ("agents", "agents "),
        ("he", "help "),
        ("agent 100", "agent 100"),  # 1001..1004: nothing more in common
        ("agent 1001 pa", "agent 1001 pause "),
        ("agent 1001 logi", "agent 1001 login "),
        ("agent 1001 login ps", "agent 1001 login pstn "),
        ("calendar ex", "calendar explain "),
        ("calendar explain sup", "calendar explain support "),
        ("hotprompt o", "hotprompt o"),  # on / off
        ("hotprompt on con", "hotprompt on connection-warning "),
        ("hotprompt on closed sa", "hotprompt on closed sales "),
        ("hotprompt on closed support u", "hotprompt on closed support until "),
    ],
)
def test_tab_completes_as_far_as_unambiguous(tmp_path: Path, typed: str, completed: str) -> None:
    result = _console(tmp_path).complete(typed, len(typed))
    if completed == typed:
        assert result is False  # the bell
    else:
        assert result == (completed, len(completed))


def test_tab_completes_the_word_under_the_cursor_and_keeps_the_rest(tmp_path: Path) -> None:
    line = "age 1001 ready"
    assert _console(tmp_path).complete(line, 3) == ("agent 1001 ready", 5)


def test_nothing_to_complete_rings_the_bell(tmp_path: Path) -> None:
    assert _console(tmp_path).complete("xyz", 3) is False
    assert _console(tmp_path).complete("agent 1001 ready ", 17) is False


def _load(tmp_path: Path, extra: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(demo_toml_with(tmp_path, extra=extra), source="c.toml")
    return str(err.value)


def test_ssh_settings_are_validated_with_the_key_named(tmp_path: Path) -> None:
    text = demo_toml_with(tmp_path).replace("[ssh]\nenabled = true", '[ssh]\nenabled = "yes"')
    with pytest.raises(ConfigError, match=r"ssh\.enabled"):
        parse_config(text, source="c.toml")
    text = demo_toml_with(tmp_path).replace("[ssh]\n", "[ssh]\nnumber = 22\n", 1)
    with pytest.raises(ConfigError, match=r"ssh\.number: unknown key"):
        parse_config(text, source="c.toml")
    text = demo_toml_with(tmp_path)
    port = text.split("[ssh]", 1)[1].split("port = ", 1)[1].split("\n", 1)[0]
    text = text.replace(f"port = {port}\n", "port = 70000\n")
    with pytest.raises(ConfigError, match=r"ssh\.port"):
        parse_config(text, source="c.toml")
    text = demo_toml_with(tmp_path).replace("[ssh]\n", '[ssh]\nhost_key_path = ""\n', 1)
    with pytest.raises(ConfigError, match=r"ssh\.host_key_path"):
        parse_config(text, source="c.toml")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("ssh-ed25519", "expected an OpenSSH public key line"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "unknown key type 'ssh-dss'"),
        ("ssh-ed25519 not*base64", "is not base64"),
        (_KEY.replace("ssh-ed25519", "ssh-rsa", 1), "does not hold a 'ssh-rsa' key"),
    ],
)
def test_ssh_keys_are_validated(tmp_path: Path, key: str, message: str) -> None:
    extra = f'[users.bob]\nrole = "admin"\npassword = "12345678"\nssh_keys = ["{key}"]\n'
    error = _load(tmp_path, extra)
    assert "users.bob.ssh_keys" in error and message in error, error


def test_a_good_key_loads(tmp_path: Path) -> None:
    extra = f'[users.bob]\nrole = "admin"\npassword = "12345678"\nssh_keys = ["{_KEY}"]\n'
    config = parse_config(demo_toml_with(tmp_path, extra=extra), source="c.toml")
    assert config.users["bob"].ssh_keys == [_KEY]
