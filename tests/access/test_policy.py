"""The permission matrix and the lockout policy, as pure decisions."""

from __future__ import annotations

import re
from pathlib import Path

from access import (
    ROLE_GRANTS,
    Action,
    LockoutPolicy,
    LoginRecord,
    Principal,
    Role,
    after_failure,
    after_success,
    check,
    decide,
)

ADMIN = Principal.of("admin", Role.ADMIN)
MANAGER = Principal.of("manager", Role.MANAGER)
AGENT = Principal.of("1001", Role.AGENT, "1001")


def test_each_role_can_do_everything_the_role_below_can() -> None:
    assert ROLE_GRANTS[Role.AGENT] < ROLE_GRANTS[Role.MANAGER] < ROLE_GRANTS[Role.ADMIN]


def test_agent_acts_for_itself_only_and_is_told_why_not_for_others() -> None:
    assert decide(AGENT, Action.ACT_AGENT, target_agent="1001")
    verdict = decide(AGENT, Action.ACT_AGENT, target_agent="1002")
    assert not verdict
    assert "only for agent '1001'" in verdict.reason and "'1002'" in verdict.reason
    assert decide(MANAGER, Action.ACT_AGENT, target_agent="1002")


def test_agent_without_agent_id_cannot_act_as_one() -> None:
    lost = Principal.of("x", Role.AGENT, None)
    assert "not linked to an agent" in decide(lost, Action.ACT_AGENT, target_agent="1").reason


def test_statistics_is_a_grant_of_its_own() -> None:
    assert not decide(AGENT, Action.STATISTICS)
    assert decide(Principal.of("a", Role.AGENT, "1", statistics=True), Action.STATISTICS)
    assert not decide(Principal.of("m", Role.MANAGER, statistics=False), Action.STATISTICS)
    assert "statistics permission" in decide(AGENT, Action.STATISTICS).reason


def test_only_admins_manage_users_and_configuration() -> None:
    for action in (Action.USERS, Action.CONFIGURE):
        assert decide(ADMIN, action)
        assert not decide(MANAGER, action)
        assert "only admins" in decide(MANAGER, action).reason


def test_docs_matrix_lists_each_role_as_the_code_grants() -> None:
    """docs/access.md's table: one row per action, a column per role (yes / own / no)."""
    text = (Path(__file__).parents[2] / "docs" / "access.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \|([^\n]+)$", text, re.M))
    assert set(rows) == {a.value for a in Action}, "docs/access.md misses or adds actions"
    for action in Action:
        cells = [c.strip() for c in rows[action.value].split("|")][:3]
        for role, cell in zip((Role.ADMIN, Role.MANAGER, Role.AGENT), cells, strict=True):
            granted = action in ROLE_GRANTS[role]
            if action is Action.ACT_AGENT and role is Role.AGENT:
                assert cell.startswith("own"), (action, role, cell)
            else:
                assert cell.startswith("yes" if granted else "no"), (action, role, cell)


POLICY = LockoutPolicy(max_failures=5, lock_seconds=900)


def test_fifth_wrong_password_in_a_row_locks_for_the_lock_time() -> None:
    record = LoginRecord()
    for i in range(4):
        record = after_failure(POLICY, record, now=100.0 + i)
        assert not record.locked(104.0)
    record = after_failure(POLICY, record, now=105.0)
    assert record.locked(105.0) and record.locked(1004.9)
    assert check(record, 500.0) is None  # refused before the password is looked at
    assert check(record, 1005.0) == LoginRecord()  # the lock ran out: counting starts afresh


def test_a_right_password_resets_the_count() -> None:
    record = after_failure(POLICY, after_failure(POLICY, LoginRecord(), 1.0), 2.0)
    assert after_success(record) == LoginRecord()
