"""Voicemail by phone: the mailboxes an agent may listen to, over the voicemail store.

An agent's mailboxes are their own (``numbers.N = { service = "voicemail", agent = ID }``)
and those of the queues they answer (a queue whose answer groups include one of the
agent's). The dialogue is ``ivr.listen_to_voicemail``.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from config import VaxelConfig
from ivr import StoredMessage
from vaxel.voicemail import VoicemailService


def agent_queues(config: VaxelConfig, agent: str) -> list[str]:
    """The queues whose voicemail ``agent`` may read: those its answer groups serve."""
    groups = set(config.agents[agent].answer_groups) if agent in config.agents else set()
    return sorted(q for q, c in config.queues.items() if groups & set(c.answer_groups))


class AgentMailboxes:
    """``ivr.MailboxAccess`` for the configured agents and the voicemail store."""

    def __init__(self, config: VaxelConfig, voicemail: VoicemailService) -> None:
        self.config = config
        self.voicemail = voicemail

    def agent_for_caller(self, a_number: str | None) -> str | None:
        if not a_number:
            return None
        # An agent id as caller is the agent's own phone: the controller authenticated it.
        if a_number in self.config.agents:
            return a_number
        for aid, agent in self.config.agents.items():
            if a_number in (agent.remote_number, agent.alternative_number):
                return aid
        return None

    def check_pin(self, agent: str, pin: str) -> bool:
        cfg = self.config.agents.get(agent)
        if cfg is None or cfg.pin is None:
            return False
        return hmac.compare_digest(cfg.pin.encode(), pin.encode())

    async def messages(self, agent: str) -> Sequence[StoredMessage]:
        infos = await self.voicemail.for_mailboxes(
            agent=agent, queues=agent_queues(self.config, agent)
        )
        locales, default = self.voicemail.mailbox_locales, self.voicemail.default_locale
        return [
            StoredMessage(
                i.id,
                i.path,
                i.heard_at is not None,
                i.created_at,
                i.a_number,
                f"queue {i.queue}" if i.queue else f"agent {i.agent}",
                # The zone its mail says the time in: the mailbox's calendar's.
                ZoneInfo(locales.get((i.queue, i.agent), default)[1]),
            )
            for i in infos
        ]

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def mark_heard(self, message_id: int) -> None:
        await self.voicemail.mark_heard(message_id)

    async def delete(self, message_id: int) -> None:
        await self.voicemail.delete(message_id)
