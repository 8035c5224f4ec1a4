"""Prompt recording by phone: authentication, the listen/re-record/save menu, timeouts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.record_prompt import (
    Admin,
    RecordPromptSettings,
    UnusableRecording,
    record_prompt_by_phone,
)

from .fake_channel import HANGUP, TIMEOUT, FakeChannel

ADMINS = {"0700000190": Admin("demo", "1919")}
SCRATCH = Path("/tmp/take.wav")


class Saver:
    def __init__(self, number: int = 1001, refuse: int = 0) -> None:
        self.number = number
        self.refuse = refuse  # refuse this many saves as unusable first
        self.saved: list[tuple[Path, str]] = []

    async def __call__(self, path: Path, language: str) -> int:
        if self.refuse:
            self.refuse -= 1
            raise UnusableRecording("no audio in the file")
        self.saved.append((path, language))
        return self.number


async def run(ch: FakeChannel, saver: Saver, **settings: object):
    return await record_prompt_by_phone(
        ch, ADMINS.get, saver, SCRATCH, RecordPromptSettings(**settings)
    )


async def test_unknown_caller_id_is_refused_without_asking_for_a_pin() -> None:
    ch, saver = FakeChannel(a_number="0709999999"), Saver()
    result = await run(ch, saver)
    assert result.outcome == "refused"
    assert ch.played == ["not-authorized", "goodbye"]
    assert ch.logged == [
        ("prompt_recording_refused", {"reason": "unknown caller id", "caller": "0709999999"})
    ]
    assert not saver.saved and not ch.recorded


async def test_hidden_caller_id_is_refused() -> None:
    ch = FakeChannel(a_number=None)
    assert (await run(ch, Saver())).outcome == "refused"


async def test_wrong_pin_three_times_hangs_up_and_saves_nothing() -> None:
    ch, saver = FakeChannel(keys=["1111#", "2222#", "1234#"], takes=[(3.0, "hash")]), Saver()
    result = await run(ch, saver)
    assert result.outcome == "refused" and result.admin == "demo"
    assert ch.played == ["enter-pin", "pin-wrong", "enter-pin", "pin-wrong", "enter-pin"] + [
        "not-authorized",
        "goodbye",
    ]
    assert ch.kinds() == ["prompt_recording_pin_wrong"] * 3 + ["prompt_recording_refused"]
    assert not saver.saved and not ch.recorded


async def test_a_wrong_pin_may_be_corrected_within_the_attempts() -> None:
    ch = FakeChannel(keys=["0000#", "1919#", "3"], takes=[(2.0, "hash")])
    result = await run(ch, Saver())
    assert result.outcome == "saved"
    assert ch.kinds()[:2] == ["prompt_recording_pin_wrong", "prompt_recording_admin"]


async def test_pin_timeouts_count_as_attempts() -> None:
    ch, saver = FakeChannel(keys=[TIMEOUT, TIMEOUT, TIMEOUT]), Saver()
    result = await run(ch, saver)
    assert result.outcome == "refused"
    assert [d["reason"] for k, d in ch.logged if k == "prompt_recording_pin_wrong"] == [
        "no digits"
    ] * 3


async def test_listen_then_record_again_then_save_announces_the_number() -> None:
    ch = FakeChannel(keys=["1919#", "1", "2", "3"], takes=[(2.5, "hash"), (3.5, "hash")])
    saver = Saver(number=1001)
    result = await run(ch, saver)
    assert result == result.__class__("saved", "demo", 1001, 2)
    assert ch.played_files == [SCRATCH]  # listened once, to the first take
    assert saver.saved == [(SCRATCH, "sv")]  # only the second take was saved
    assert ch.played == [
        "enter-pin",
        "record-instructions",
        "beep",
        "record-menu",  # -> 1: listen
        "record-menu",  # -> 2: record again
        "record-instructions",
        "beep",
        "record-menu",  # -> 3: save
        "record-saved",
        "digit-1",
        "thousand",
        "digit-1",
        "goodbye",
    ]
    saved = dict(ch.logged)["prompt_recording_saved"]
    assert saved == {"admin": "demo", "number": 1001, "seconds": 3.5}
    assert ch.flushes == 2  # type-ahead is dropped before every take


async def test_english_admin_hears_the_number_in_english() -> None:
    ch = FakeChannel(keys=["1919#", "3"], takes=[(2.0, "hash")], language="en")
    await run(ch, Saver(number=1042))
    tail = ["record-saved", "digit-1", "thousand", "and", "n-40", "digit-2", "goodbye"]
    assert ch.played[-7:] == tail


async def test_a_key_pressed_while_listening_answers_the_menu() -> None:
    ch = FakeChannel(keys=["1919#", "1", "3"], takes=[(2.0, "hash")])
    result = await run(ch, Saver())
    assert result.outcome == "saved"
    assert ch.played.count("record-menu") == 2


async def test_invalid_menu_key_is_explained_and_the_menu_repeats() -> None:
    ch = FakeChannel(keys=["1919#", "7", "3"], takes=[(2.0, "hash")])
    assert (await run(ch, Saver())).outcome == "saved"
    i = ch.played.index("invalid-choice")
    assert ch.played[i - 1 : i + 2] == ["record-menu", "invalid-choice", "record-menu"]


async def test_no_answer_to_the_menu_ends_the_call_without_saving() -> None:
    ch, saver = (
        FakeChannel(keys=["1919#", TIMEOUT, TIMEOUT, TIMEOUT], takes=[(2.0, "hash")]),
        (Saver()),
    )
    result = await run(ch, saver)
    assert result.outcome == "abandoned"
    assert ch.played[-4:] == ["record-menu", "record-menu", "record-menu", "goodbye"]
    assert not saver.saved
    assert "prompt_recording_abandoned" in ch.kinds()


async def test_an_empty_take_is_recorded_again() -> None:
    ch = FakeChannel(keys=["1919#", "3"], takes=[(0.1, "silence"), (2.0, "hash")])
    saver = Saver()
    assert (await run(ch, saver)).outcome == "saved"
    assert ch.played[1:5] == ["record-instructions", "beep", "record-empty", "record-instructions"]
    assert len(saver.saved) == 1


async def test_audio_the_store_refuses_is_recorded_again() -> None:
    ch = FakeChannel(keys=["1919#", "3", "3"], takes=[(2.0, "max"), (2.0, "hash")])
    saver = Saver(refuse=1)
    assert (await run(ch, saver)).outcome == "saved"
    assert "prompt_recording_unusable" in ch.kinds()
    assert len(saver.saved) == 1


async def test_hangup_in_the_menu_saves_nothing() -> None:
    ch, saver = FakeChannel(keys=["1919#", HANGUP], takes=[(2.0, "hash")]), Saver()
    assert (await run(ch, saver)).outcome == "hangup"
    assert not saver.saved


async def test_hangup_while_recording_saves_nothing() -> None:
    ch, saver = FakeChannel(keys=["1919#"], takes=[(2.0, "hangup")]), Saver()
    assert (await run(ch, saver)).outcome == "hangup"
    assert not saver.saved


async def test_takes_are_limited() -> None:
    ch, saver = FakeChannel(keys=["1919#", "2", "2"], takes=[(2.0, "hash")] * 3), Saver()
    result = await run(ch, saver, max_takes=2)
    assert result.outcome == "abandoned" and result.takes == 2
    assert not saver.saved


async def test_hanging_up_right_after_3_still_saves_the_prompt() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    saved: list[Path] = []

    async def slow_save(path: Path, language: str) -> int:
        started.set()
        await release.wait()
        saved.append(path)
        return 1001

    ch = FakeChannel(keys=["1919#", "3"], takes=[(2.0, "hash")])
    task = asyncio.ensure_future(
        record_prompt_by_phone(ch, ADMINS.get, slow_save, SCRATCH, RecordPromptSettings())
    )
    await started.wait()
    task.cancel()  # the BYE arrives while the prompt is being stored
    await asyncio.sleep(0)
    assert not task.done()  # still waiting for the save, so the take is not removed yet
    release.set()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert saved == [SCRATCH]
