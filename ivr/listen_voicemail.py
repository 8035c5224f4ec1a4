"""Voicemail by phone: an agent calls the service number and listens to their mailboxes.

The agent is recognised by caller id (their remote or alternative number, or a phone
registered to them); from any other number they key their agent id and PIN. They hear how
many new and old messages their mailboxes hold, then each message - new ones first, newest
first, then the old ones, newest first - and after each the menu: ``7`` delete, ``9`` keep,
``1`` replay, ``#`` next (kept as it is). Before each message they hear when it came
("Message 2. Received yesterday at 14 05"), in the time zone of its mailbox's calendar. A
key pressed while a message plays answers the menu at once. A message once played (even in
part) counts as old from then on.

Everything comes in as arguments (channel, mailbox access), so the dialogue runs unchanged
against a real call or a scripted fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Protocol

from prompts import number_prompts, received_prompts

from .recording import RecordingChannel, finish_even_if_cancelled

REPLAY, DELETE, KEEP, NEXT = "1", "7", "9", "#"
_CHOICES = (REPLAY, DELETE, KEEP, NEXT)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    path: Path
    heard: bool
    created_at: datetime
    caller: str | None = None
    mailbox: str = ""
    zone: tzinfo = UTC  # its mailbox's calendar's: when it came is said in this zone


class MailboxAccess(Protocol):
    """What the dialogue needs of the voicemail store and the agents."""

    def agent_for_caller(self, a_number: str | None) -> str | None:
        """The agent whose known number (or registered phone) calls, or None."""

    def check_pin(self, agent: str, pin: str) -> bool: ...

    async def messages(self, agent: str) -> Sequence[StoredMessage]:
        """Every message of the mailboxes ``agent`` may read, newest first."""

    async def mark_heard(self, message_id: int) -> None: ...

    async def delete(self, message_id: int) -> None: ...

    def now(self) -> datetime:
        """Now (aware): "today" and "yesterday" are counted from it."""


@dataclass(frozen=True)
class ListenSettings:
    login_attempts: int = 3
    first_timeout: float = 10.0
    inter_timeout: float = 5.0
    menu_timeout: float = 8.0
    menu_rounds: int = 3  # unanswered menus before the call ends


@dataclass(frozen=True, slots=True)
class ListenResult:
    outcome: str  # "done", "refused", "hangup", "abandoned"
    agent: str | None = None
    played: int = 0
    deleted: tuple[int, ...] = ()


def listening_order(messages: Sequence[StoredMessage]) -> list[StoredMessage]:
    """New messages first, then old ones; newest first within each."""
    newest = sorted(messages, key=lambda m: (m.created_at, m.id), reverse=True)
    return [m for m in newest if not m.heard] + [m for m in newest if m.heard]


async def listen_to_voicemail(
    ch: RecordingChannel, access: MailboxAccess, settings: ListenSettings = ListenSettings()
) -> ListenResult:
    agent = await _identify(ch, access, settings)
    if isinstance(agent, ListenResult):
        return agent
    messages = listening_order(await access.messages(agent))
    new = sum(1 for m in messages if not m.heard)
    await ch.log("voicemail_listen", agent=agent, new=new, old=len(messages) - new)
    lang = ch.language
    await ch.play(
        [
            "vm-you-have",
            *number_prompts(new, lang),
            "vm-new-messages",
            "and",
            *number_prompts(len(messages) - new, lang),
            "vm-old-messages",
        ],
        barge_in=True,
    )
    deleted: list[int] = []
    played = 0
    for position, message in enumerate(messages, start=1):
        choice = await _one_message(ch, access, message, position, settings)
        played += 1
        if choice == "hangup":
            return ListenResult("hangup", agent, played, tuple(deleted))
        if choice is None:
            await ch.play(["goodbye"])
            return ListenResult("abandoned", agent, played, tuple(deleted))
        if choice == DELETE:
            # Deleted even when the agent hangs up right after the key.
            await finish_even_if_cancelled(access.delete(message.id))
            deleted.append(message.id)
            await ch.log("voicemail_deleted", agent=agent, voicemail_id=message.id)
            await ch.play(["vm-deleted"])
        elif choice == KEEP:
            await ch.log("voicemail_kept", agent=agent, voicemail_id=message.id)
            await ch.play(["vm-kept"])
    await ch.play(["vm-no-more", "goodbye"])
    return ListenResult("done", agent, played, tuple(deleted))


async def _one_message(
    ch: RecordingChannel,
    access: MailboxAccess,
    message: StoredMessage,
    position: int,
    settings: ListenSettings,
) -> str | None:
    """Play one message and its menu until a key that moves on: DELETE, KEEP, NEXT;
    None when nothing was keyed; "hangup"."""
    while True:
        ch.flush_digits()  # keys typed during the last prompt do not skip this message
        when = received_prompts(message.created_at, access.now(), message.zone, ch.language)
        key = await ch.play(
            ["vm-message", *number_prompts(position, ch.language), *when], barge_in=True
        )
        if key is None:
            key = await ch.play_file(message.path, barge_in=True)
        if not message.heard:
            await access.mark_heard(message.id)
        choice: str | None = None
        if key is not None:  # keyed while it played: that key answers the menu
            res = await ch.collect_digits(1, settings.menu_timeout, settings.menu_timeout, "")
            if res.reason == "hangup":
                return "hangup"
            choice = res.digits if res.digits in _CHOICES else None
        if choice is None:
            choice = await _menu(ch, settings)
        if choice != REPLAY:
            return choice


async def _menu(ch: RecordingChannel, settings: ListenSettings) -> str | None:
    for _ in range(settings.menu_rounds):
        await ch.play(["vm-message-menu"], barge_in=True)
        res = await ch.collect_digits(1, settings.menu_timeout, settings.menu_timeout, "")
        if res.reason == "hangup":
            return "hangup"
        if res.digits in _CHOICES:
            return res.digits
        if res.digits:
            await ch.play(["invalid-choice"])
    return None


async def _identify(
    ch: RecordingChannel, access: MailboxAccess, settings: ListenSettings
) -> str | ListenResult:
    agent = access.agent_for_caller(ch.a_number)
    if agent is not None:
        await ch.log("voicemail_listen_login", agent=agent, by="caller id")
        return agent
    for attempt in range(1, settings.login_attempts + 1):
        await ch.play(["vm-enter-agent"], barge_in=True)
        typed = await ch.collect_digits(
            8, settings.first_timeout, settings.inter_timeout, terminator="#"
        )
        if typed.reason == "hangup":
            return ListenResult("hangup")
        await ch.play(["enter-pin"], barge_in=True)
        pin = await ch.collect_digits(
            8, settings.first_timeout, settings.inter_timeout, terminator="#"
        )
        if pin.reason == "hangup":
            return ListenResult("hangup")
        if typed.digits and pin.digits and access.check_pin(typed.digits, pin.digits):
            await ch.log("voicemail_listen_login", agent=typed.digits, by="pin")
            return typed.digits
        await ch.log("voicemail_listen_pin_wrong", agent=typed.digits or None, attempt=attempt)
        if attempt < settings.login_attempts:
            await ch.play(["pin-wrong"])
    await ch.log("voicemail_listen_refused", caller=ch.a_number)
    await ch.play(["not-authorized", "goodbye"])
    return ListenResult("refused")
