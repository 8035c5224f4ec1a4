"""Voicemail dialogue: greeting and tone, the message kept on #, silence, max or hang-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.recording import Recording
from ivr.voicemail import VoicemailSettings, leave_voicemail

from .fake_channel import FakeChannel

MESSAGE = Path("/tmp/vm.wav")


class Box:
    def __init__(self) -> None:
        self.stored: list[Recording] = []
        self.discarded: list[Path] = []

    async def store(self, recording: Recording) -> int:
        self.stored.append(recording)
        return 7

    def discard(self, path: Path) -> None:
        self.discarded.append(path)


@pytest.mark.parametrize("reason", ["hash", "silence", "max"])
async def test_the_message_is_stored_and_the_caller_hears_it_was_saved(reason: str) -> None:
    ch, box = FakeChannel(takes=[(4.2, reason)]), Box()
    result = await leave_voicemail(ch, box, MESSAGE)
    assert (result.outcome, result.voicemail_id, result.seconds) == ("stored", 7, 4.2)
    assert ch.played == ["voicemail-prompt", "beep", "voicemail-saved"]
    assert box.stored == [Recording(MESSAGE, 4.2, reason)]
    assert ch.flushes == 1  # a '#' keyed during the greeting must not end the message
    assert ch.logged == [("voicemail_stored", {"voicemail_id": 7, "seconds": 4.2, "end": reason})]


async def test_the_queue_greeting_replaces_the_standard_one() -> None:
    ch = FakeChannel(takes=[(3.0, "hash")])
    await leave_voicemail(ch, Box(), MESSAGE, greeting="support-vm")
    assert ch.played[:2] == ["support-vm", "beep"]


async def test_a_too_short_message_is_discarded() -> None:
    ch, box = FakeChannel(takes=[(0.3, "silence")]), Box()
    result = await leave_voicemail(ch, box, MESSAGE, settings=VoicemailSettings(min_seconds=1))
    assert result.outcome == "empty"
    assert box.discarded == [MESSAGE] and not box.stored
    assert ch.played[-1] == "goodbye"


async def test_hanging_up_while_recording_keeps_the_message() -> None:
    ch, box = FakeChannel(takes=[(5.0, "cancel")]), Box()
    with pytest.raises(asyncio.CancelledError):
        await leave_voicemail(ch, box, MESSAGE)
    assert box.stored == [Recording(MESSAGE, 5.0, "hangup")]
    assert ch.played == ["voicemail-prompt", "beep"]  # nothing more to a caller who is gone


async def test_hanging_up_at_the_tone_stores_nothing() -> None:
    ch, box = FakeChannel(takes=[(0.2, "cancel")]), Box()
    with pytest.raises(asyncio.CancelledError):
        await leave_voicemail(ch, box, MESSAGE)
    assert not box.stored and box.discarded == [MESSAGE]


async def test_a_leg_that_closed_during_recording_keeps_the_message_silently() -> None:
    ch, box = FakeChannel(takes=[(3.0, "hangup")]), Box()
    result = await leave_voicemail(ch, box, MESSAGE)
    assert result.outcome == "hangup" and len(box.stored) == 1
    assert ch.played == ["voicemail-prompt", "beep"]
