"""Remote login by phone toggles the agent's login (SPEC S5)."""

from __future__ import annotations

import pytest

from acd import Acd, AgentConfig, AgentState, AnswerGroup, GroupMembership, QueueConfig
from acd.remote_login import (
    PROMPT_IN,
    PROMPT_OUT,
    PROMPT_REFUSED,
    apply_remote_login,
    decide_remote_login,
    normalize_number,
)


def _acd() -> Acd:
    return Acd(
        [QueueConfig(id="q", answer_groups=("night",))],
        [AnswerGroup("day"), AnswerGroup("night")],
        [
            AgentConfig(
                id="eva",
                memberships=(GroupMembership("day"), GroupMembership("night")),
                preselected_groups=("night",),
                remote_number="+46 70-111 22 33",
                alt_number="08-555 000 11",
            ),
            AgentConfig(
                id="olle",
                memberships=(GroupMembership("day"), GroupMembership("night")),
                remote_number="+46702223344",
            ),
        ],
    )


@pytest.mark.parametrize("caller", [None, "", "anonymous", "Unknown", "sip:anonymous@x"])
def test_hidden_caller_id_is_refused_and_nothing_changes(caller: str | None) -> None:
    acd = _acd()
    outcome, cmds = apply_remote_login(acd, caller, now=0)
    assert (outcome.action, outcome.prompt, cmds) == ("refused", PROMPT_REFUSED, [])
    assert not acd.is_logged_in("eva") and not acd.is_logged_in("olle")


def test_unknown_caller_id_is_refused() -> None:
    outcome, cmds = apply_remote_login(_acd(), "+46709999999", now=0)
    assert (outcome.action, outcome.reason, cmds) == ("refused", "unknown caller id", [])


def test_first_call_logs_in_to_preselected_groups_with_remote_number_as_device() -> None:
    acd = _acd()
    outcome, _ = apply_remote_login(acd, "sip:+46701112233@trunk;user=phone", now=0)
    assert (outcome.action, outcome.prompt, outcome.agent) == ("login", PROMPT_IN, "eva")
    view = acd.agent_view("eva")
    assert view.state is AgentState.READY
    assert view.device == "+46 70-111 22 33"
    assert view.groups == frozenset({"night"})


def test_agent_without_preselected_groups_logs_in_to_all_groups() -> None:
    acd = _acd()
    apply_remote_login(acd, "+46702223344", now=0)
    assert acd.agent_view("olle").groups == frozenset({"day", "night"})


def test_second_call_logs_out() -> None:
    acd = _acd()
    apply_remote_login(acd, "+46702223344", now=0)
    outcome, _ = apply_remote_login(acd, "+46702223344", now=60)
    assert (outcome.action, outcome.prompt) == ("logout", PROMPT_OUT)
    assert acd.agent_view("olle").state is AgentState.OFFLINE


def test_alternative_number_in_national_form_matches_with_country_code() -> None:
    outcome = decide_remote_login(
        "+46855500011", _acd().agent_configs(), lambda _: False, country_code="46"
    )
    assert (outcome.action, outcome.agent) == ("login", "eva")
    without = decide_remote_login("+46855500011", _acd().agent_configs(), lambda _: False)
    assert without.action == "refused"


def test_number_shared_by_two_agents_is_refused() -> None:
    agents = [
        AgentConfig(id="x", remote_number="+461"),
        AgentConfig(id="y", alt_number="+461"),
    ]
    outcome = decide_remote_login("+461", agents, lambda _: False)
    assert outcome.action == "refused" and "several agents" in outcome.reason


def test_normalize_number_handles_separators_and_prefixes() -> None:
    assert normalize_number("+46 (0)70-123") == "+4670123"
    assert normalize_number("reception") is None
    assert normalize_number("0046-70-123") == "+4670123"
    assert normalize_number("tel:070 123", country_code="46") == "+4670123"
