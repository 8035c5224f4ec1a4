"""Voicemail by phone, the dialogue against a scripted caller: who may listen, the counts,
the order, and what delete, keep, replay and next do to the mailbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr import ListenSettings, StoredMessage, listen_to_voicemail, listening_order
from prompts import STANDARD_PROMPTS, day_prompts, received_prompts, time_prompts
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
        self.clock = T0 + timedelta(hours=1)

    def now(self) -> datetime:
        return self.clock

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


async def test_each_message_is_preceded_by_when_it_came_in_its_mailboxs_zone() -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    # Now: Friday 4 December 2026, 10:00 in Stockholm (09:00 UTC).
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    msgs = [
        StoredMessage(1, Path("/vm/1.wav"), False, datetime(2026, 12, 4, 7, 5, tzinfo=UTC),
                      zone=stockholm),  # today 08:05 in Stockholm
        StoredMessage(2, Path("/vm/2.wav"), False, datetime(2026, 12, 3, 23, 30, tzinfo=UTC),
                      zone=stockholm),  # 00:30 on the 4th in Stockholm: today, not yesterday
        StoredMessage(3, Path("/vm/3.wav"), True, datetime(2026, 12, 3, 22, 30, tzinfo=UTC),
                      zone=stockholm),  # 23:30 on the 3rd there: yesterday
        StoredMessage(4, Path("/vm/4.wav"), True, datetime(2026, 11, 30, 13, 0, tzinfo=UTC),
                      zone=stockholm),  # Monday 30 November, 14:00
        StoredMessage(5, Path("/vm/5.wav"), True, datetime(2026, 11, 3, 16, 42, tzinfo=UTC),
                      zone=stockholm),  # a month ago: the date, 17:42
    ]
    box = Mailboxes(msgs)
    box.clock = now
    ch = caller(TIMEOUT, "#", TIMEOUT, "#", TIMEOUT, "#", TIMEOUT, "#", TIMEOUT, "#")
    result = await listen_to_voicemail(ch, box)
    assert result.played == 5

    def said_before(path: str) -> list[str]:
        """What was played between the message's number and the message itself."""
        index = ch.played_files.index(Path(path))
        return ch.spoken_before_file[index]

    assert said_before("/vm/1.wav") == [
        "vm-message", "digit-1", "vm-received", "today", "at-clock", "digit-8", "digit-0",
        "digit-5",
    ]  # fmt: skip
    assert said_before("/vm/2.wav") == [
        "vm-message", "digit-2", "vm-received", "today", "at-clock", "digit-0", "n-30",
    ]  # fmt: skip
    assert said_before("/vm/3.wav")[2:] == ["vm-received", "yesterday", "at-clock", "n-20",
                                            "digit-3", "n-30"]  # fmt: skip
    assert said_before("/vm/4.wav")[2:] == ["vm-received", "on-weekday-1", "at-clock", "n-14"]
    assert said_before("/vm/5.wav")[2:] == ["vm-received", "on-day-3", "month-11", "at-clock",
                                            "n-17", "n-40", "digit-2"]  # fmt: skip


def test_the_day_is_the_zones_day_and_a_week_ago_is_said_as_a_date() -> None:
    utc_now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    tokyo = ZoneInfo("Asia/Tokyo")  # 18:00 on the 4th there
    assert day_prompts(datetime(2026, 12, 3, 16, 0, tzinfo=UTC), utc_now, tokyo) == ["today"]
    assert day_prompts(datetime(2026, 12, 3, 16, 0, tzinfo=UTC), utc_now, UTC) == ["yesterday"]
    assert day_prompts(datetime(2026, 11, 28, 9, 0, tzinfo=UTC), utc_now, UTC) == [
        "on-weekday-6"  # Saturday, six days ago
    ]
    assert day_prompts(datetime(2026, 11, 27, 9, 0, tzinfo=UTC), utc_now, UTC) == [
        "on-day-27", "month-11"  # a week ago: Friday again would be ambiguous
    ]  # fmt: skip
    assert time_prompts(datetime(2026, 12, 4, 0, 0, tzinfo=UTC), UTC, "en") == [
        "at-clock", "digit-0"
    ]  # fmt: skip
    assert received_prompts(datetime(2026, 12, 4, 12, 15, tzinfo=UTC), utc_now, UTC, "sv") == [
        "vm-received", "today", "at-clock", "n-12", "n-15"
    ]  # fmt: skip
    every = {f"on-day-{d}" for d in range(1, 32)} | {"vm-received", "at-clock"}
    every |= {f"month-{m}" for m in range(1, 13)} | {f"on-weekday-{w}" for w in range(1, 8)}
    assert every <= set(STANDARD_PROMPTS)  # every name it can say is a shipped prompt
