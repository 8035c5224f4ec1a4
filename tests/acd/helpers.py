"""Small builders shared by the ACD tests."""

from __future__ import annotations

from typing import Any

from acd import (
    Acd,
    AgentConfig,
    AnswerGroup,
    CancelOffer,
    Command,
    GroupMembership,
    LogEvent,
    OfferCall,
    QueueConfig,
)


def make_acd(
    n_agents: int = 3,
    *,
    queues: list[QueueConfig] | None = None,
    levels: dict[str, int] | None = None,
    login: bool = True,
    **queue_kw: Any,
) -> Acd:
    """One group "g", agents a0..aN-1 in it, queue "q" (or ``queues``) served by it."""
    levels = levels or {}
    qs = queues or [QueueConfig(id="q", answer_groups=("g",), **queue_kw)]
    agents = [
        AgentConfig(
            id=f"a{i}",
            memberships=(GroupMembership("g", levels.get(f"a{i}", 0)),),
            remote_number=f"+4670000000{i}",
        )
        for i in range(n_agents)
    ]
    acd = Acd(qs, [AnswerGroup("g")], agents)
    if login:
        for i in range(n_agents):
            acd.agent_login(f"a{i}", f"sip:a{i}@test", now=float(i))
    return acd


def offers(cmds: list[Command]) -> list[OfferCall]:
    return [c for c in cmds if isinstance(c, OfferCall)]


def cancels(cmds: list[Command]) -> list[CancelOffer]:
    return [c for c in cmds if isinstance(c, CancelOffer)]


def logs(cmds: list[Command], kind: str) -> list[LogEvent]:
    return [c for c in cmds if isinstance(c, LogEvent) and c.kind == kind]


def of_type(cmds: list[Command], cls: type) -> list[Any]:
    return [c for c in cmds if isinstance(c, cls)]
