"""Remote login by phone (distansinloggning, SPEC S5) as a pure decision.

An agent calls the remote-login service number from a pre-registered phone.
The caller id must equal the agent's remote number or alternative number;
hidden or unknown caller ids are refused and nothing changes.  Each accepted
call toggles: logged out -> logged in with the remote number as device to
the preselected answer groups (else all the agent's groups); logged in ->
logged out.  The composition root plays ``prompt`` and, for "login"/"logout",
calls :meth:`acd.Acd.agent_login` / :meth:`acd.Acd.agent_logout` (or uses
:func:`apply_remote_login`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from acd.commands import Command
from acd.core import Acd
from acd.model import AgentConfig

PROMPT_IN = "remote-login-in"
PROMPT_OUT = "remote-login-out"
PROMPT_REFUSED = "remote-login-refused"

_HIDDEN = {"", "anonymous", "unknown", "restricted", "private", "unavailable", "withheld"}
_SEPARATORS = re.compile(r"[\s\-./()]")


@dataclass(frozen=True, slots=True)
class RemoteLoginOutcome:
    """What a call to the remote-login service does, and what to announce."""

    action: Literal["login", "logout", "refused"]
    prompt: str
    agent: str | None = None
    device: str | None = None
    groups: tuple[str, ...] = ()
    reason: str = ""


def normalize_number(number: str | None, country_code: str | None = None) -> str | None:
    """Comparable form of a phone number, or None when hidden/unusable.

    Accepts ``sip:``/``tel:`` URIs (user part), strips separators, turns a
    leading ``00`` into ``+``, and with ``country_code`` (e.g. "46") turns a
    national ``0…`` number into ``+46…`` so that both forms match.
    """
    if number is None:
        return None
    n = number.strip()
    for scheme in ("sip:", "sips:", "tel:"):
        if n.lower().startswith(scheme):
            n = n[len(scheme) :]
    n = n.split("@", 1)[0].split(";", 1)[0]
    n = n.replace("(0)", "")  # "+46 (0)70…": the bracketed trunk zero is not dialled
    n = _SEPARATORS.sub("", n)
    if n.lower() in _HIDDEN:
        return None
    if n.startswith("00"):
        n = "+" + n[2:]
    elif country_code and n.startswith("0"):
        n = "+" + country_code + n[1:]
    body = n[1:] if n.startswith("+") else n
    if not body.isdigit():
        return None
    return n


def decide_remote_login(
    caller_id: str | None,
    agents: Iterable[AgentConfig],
    is_logged_in: Callable[[str], bool],
    *,
    country_code: str | None = None,
) -> RemoteLoginOutcome:
    """Decide the toggle for a call from ``caller_id`` (pure; nothing changes)."""
    number = normalize_number(caller_id, country_code)
    if number is None:
        return RemoteLoginOutcome("refused", PROMPT_REFUSED, reason="hidden caller id")
    matches = [
        a
        for a in agents
        if number
        in {
            normalize_number(a.remote_number, country_code),
            normalize_number(a.alt_number, country_code),
        }
    ]
    if not matches:
        return RemoteLoginOutcome("refused", PROMPT_REFUSED, reason="unknown caller id")
    if len(matches) > 1:
        # Two agents share the number: refusing beats logging in the wrong person.
        ids = ", ".join(a.id for a in matches)
        return RemoteLoginOutcome(
            "refused", PROMPT_REFUSED, reason=f"caller id registered for several agents: {ids}"
        )
    agent = matches[0]
    if is_logged_in(agent.id):
        return RemoteLoginOutcome("logout", PROMPT_OUT, agent=agent.id, reason="remote logout")
    device = agent.remote_number or caller_id
    assert device is not None
    return RemoteLoginOutcome(
        "login",
        PROMPT_IN,
        agent=agent.id,
        device=device,
        groups=agent.default_login_groups(),
        reason="remote login",
    )


def apply_remote_login(
    acd: Acd, caller_id: str | None, *, now: float, country_code: str | None = None
) -> tuple[RemoteLoginOutcome, list[Command]]:
    """Decide and carry the toggle out on ``acd``; returns the outcome and ACD commands."""
    outcome = decide_remote_login(
        caller_id, acd.agent_configs(), acd.is_logged_in, country_code=country_code
    )
    if outcome.action == "login":
        assert outcome.agent is not None and outcome.device is not None
        return outcome, acd.agent_login(outcome.agent, outcome.device, outcome.groups, now=now)
    if outcome.action == "logout":
        assert outcome.agent is not None
        return outcome, acd.agent_logout(outcome.agent, now=now, reason="remote logout")
    return outcome, []
