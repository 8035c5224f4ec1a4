"""Voicemail by phone, the dialogue against a scripted caller: who may listen, the counts,
the order, and what delete, keep, replay and next do to the mailbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ivr import ListenSettings, StoredMessage, listen_to_voicemail, listening_order
from tests.ivr.fake_channel import HANGUP, TIMEOUT, FakeChannel

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def message(i: int, *, heard: bool = False, minutes: int = 0) -> StoredMessage:
    return StoredMessage(i, Path(f"/vm/{i}.wav"), heard, T0 + timedelta(minutes=minutes))


class Mailboxes:
    def __init__(self, messages: list[StoredMessage], callers: dict[str, str] | None = None):
        self.stored = {m.id: m for m in messages}
        self.callers = callers if callers is not None else {"0701001001": "1001"}
        self.heard: list[int] = []
        self.deleted: list[int] = []

    def agent_for_caller(self, a_number: str | None) -> str | None:
        return self.callers.get(a_number or "")

    def check_pin(self, agent: str, pin: str) -> bool:
        return (agent, pin) == ("1002", "1002")

    async def messages(self, agent: str) -> list[StoredMessage]:
        return list(self.stored.values())

    async def mark_heard(self, message_id: int) -> None:
        self.heard.append(message_id)

    async def delete(self, message_id: int) -> None:
        self.deleted.append(message_id)
        del self.stored[message_id]


def caller(*keys: str | None, a_number: str = "0701001001") -> FakeChannel:
    return FakeChannel(keys, a_number=a_number)


def test_new_messages_come_first_newest_first_then_the_old_ones() -> None:
    msgs = [message(1, minutes=1), message(2, heard=True, minutes=5), message(3, minutes=9),
            message(4, heard=True, minutes=2)]  # fmt: skip
    assert [m.id for m in listening_order(msgs)] == [3, 1, 2, 4]


async def test_known_number_hears_the_counts_then_deletes_the_first_and_keeps_the_second() -> None:
    box = Mailboxes([message(1, minutes=1), message(2, heard=True, minutes=0)])
    ch = caller(TIMEOUT, "7", TIMEOUT, "9")
    result = await listen_to_voicemail(ch, box)
    assert result.outcome == "done" and result.agent == "1001" and result.deleted == (1,)
    assert box.deleted == [1] and list(box.stored) == [2]
    # "You have one new message(s) and one old": the counts precede everything else.
    assert ch.played[:6] == ["vm-you-have", "digit-1", "vm-new-messages", "and", "digit-1",
                             "vm-old-messages"]  # fmt: skip
    assert ch.played_files == [Path("/vm/1.wav"), Path("/vm/2.wav")]
    assert "vm-deleted" in ch.played and "vm-kept" in ch.played
    assert ch.played[-2:] == ["vm-no-more", "goodbye"]
    assert box.heard == [1]  # the old one was heard before
    assert ("voicemail_deleted", {"agent": "1001", "voicemail_id": 1}) in ch.logged
    assert ch.kinds()[:2] == ["voicemail_listen_login", "voicemail_listen"]


async def test_a_key_while_the_message_plays_answers_the_menu_at_once() -> None:
    box = Mailboxes([message(1)])
    ch = caller("7")  # pressed during the message: no menu prompt needed
    result = await listen_to_voicemail(ch, box)
    assert result.deleted == (1,) and "vm-message-menu" not in ch.played


async def test_replay_plays_the_message_again_and_next_leaves_it_as_it_is() -> None:
    box = Mailboxes([message(1)])
    ch = caller(TIMEOUT, "1", TIMEOUT, "#")
    result = await listen_to_voicemail(ch, box)
    assert ch.played_files == [Path("/vm/1.wav")] * 2
    assert result.outcome == "done" and box.deleted == [] and list(box.stored) == [1]


async def test_unknown_number_logs_in_with_agent_id_and_pin() -> None:
    box = Mailboxes([message(1)], callers={})
    ch = caller("1002#", "1002#", TIMEOUT, "#", a_number="0709999999")
    result = await listen_to_voicemail(ch, box)
    assert result.agent == "1002" and result.outcome == "done"
    assert ch.played[:2] == ["vm-enter-agent", "enter-pin"]
    assert ("voicemail_listen_login", {"agent": "1002", "by": "pin"}) in ch.logged


async def test_three_wrong_pins_are_refused_and_nothing_is_read() -> None:
    box = Mailboxes([message(1)], callers={})
    ch = caller("1002#", "0000#", "1002#", "1111#", "9#", "1#", a_number=None)  # type: ignore[arg-type]
    result = await listen_to_voicemail(ch, box)
    assert result.outcome == "refused"
    assert [d["attempt"] for k, d in ch.logged if k == "voicemail_listen_pin_wrong"] == [1, 2, 3]
    assert ch.played_files == [] and box.heard == []
    assert ch.played[-2:] == ["not-authorized", "goodbye"]


async def test_hanging_up_at_the_menu_keeps_the_message() -> None:
    box = Mailboxes([message(1)])
    result = await listen_to_voicemail(caller(HANGUP), box)
    assert result.outcome == "hangup" and box.deleted == [] and box.heard == [1]


async def test_no_key_at_the_menu_ends_the_call_after_the_rounds() -> None:
    box = Mailboxes([message(1), message(2, minutes=1)])
    ch = caller(TIMEOUT, TIMEOUT)
    result = await listen_to_voicemail(ch, box, ListenSettings(menu_rounds=2))
    assert result.outcome == "abandoned" and result.played == 1
    assert ch.played.count("vm-message-menu") == 2 and ch.played[-1] == "goodbye"


async def test_an_empty_mailbox_says_so_and_says_goodbye() -> None:
    ch = caller()
    result = await listen_to_voicemail(ch, Mailboxes([]))
    assert result.outcome == "done" and ch.played_files == []
    assert ch.played == ["vm-you-have", "digit-0", "vm-new-messages", "and", "digit-0",
                         "vm-old-messages", "vm-no-more", "goodbye"]  # fmt: skip
