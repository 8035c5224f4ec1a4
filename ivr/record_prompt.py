"""Prompt recording by phone (SPEC S7): an admin records a new prompt from any phone.

The admin is recognised by caller id and proves it with a PIN keyed on the phone; a
caller id that is not an admin's is refused at once (no PIN is asked, nothing to guess),
a wrong PIN may be retried a few times. Then: record after the tone, ``#`` to stop, and
a menu - ``1`` listen, ``2`` record again, ``3`` save. The saved recording becomes a
prompt numbered by the store; the number is read out so the admin can find it later.

Everything the dialogue touches comes in as arguments (channel, admin look-up, saver),
so it runs unchanged against a real call or a scripted test double.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from prompts import number_prompts

from .recording import Recording, RecordingChannel, finish_even_if_cancelled

LISTEN, RERECORD, SAVE = "1", "2", "3"


@dataclass(frozen=True, slots=True)
class Admin:
    name: str
    pin: str


@dataclass(frozen=True)
class RecordPromptSettings:
    pin_attempts: int = 3
    pin_first_timeout: float = 10.0
    pin_inter_timeout: float = 5.0
    max_seconds: float = 300.0
    # Long enough for a pause to think; '#' is the normal way to end a take.
    silence_seconds: float | None = 15.0
    min_seconds: float = 0.5
    menu_timeout: float = 8.0
    menu_rounds: int = 3  # unanswered menus before giving up (nothing is saved)
    max_takes: int = 20


@dataclass(frozen=True, slots=True)
class RecordPromptResult:
    outcome: str  # "saved", "refused", "abandoned", "hangup", "failed"
    admin: str | None = None
    number: int | None = None
    takes: int = 0


class UnusableRecording(Exception):
    """The saver refused the audio (e.g. nothing audible): the admin is asked to retry."""


AdminLookup = Callable[[str | None], Admin | None]
# (recording file, language) -> the number the new prompt is stored under.
Saver = Callable[[Path, str], Awaitable[int]]


async def record_prompt_by_phone(
    ch: RecordingChannel,
    find_admin: AdminLookup,
    save: Saver,
    scratch: Path,
    settings: RecordPromptSettings = RecordPromptSettings(),
) -> RecordPromptResult:
    """Run the whole dialogue; ``scratch`` is where takes are recorded (removed by the
    caller of this function afterwards)."""
    admin = await _authenticate(ch, find_admin, settings)
    if isinstance(admin, RecordPromptResult):
        return admin
    await ch.log("prompt_recording_admin", admin=admin.name)
    takes = 0
    take: Recording | None = None
    while True:
        if take is None:
            if takes >= settings.max_takes:
                await ch.play(["goodbye"])
                return RecordPromptResult("abandoned", admin.name, takes=takes)
            takes += 1
            take = await _record_take(ch, scratch, settings)
            if take.reason == "hangup":
                await ch.log("prompt_recording_hangup", admin=admin.name, stage="recording")
                return RecordPromptResult("hangup", admin.name, takes=takes)
            if take.seconds < settings.min_seconds:
                await ch.log("prompt_recording_empty", admin=admin.name, seconds=take.seconds)
                await ch.play(["record-empty"])
                take = None
                continue
        choice = await _menu(ch, settings)
        if choice == "hangup":
            await ch.log("prompt_recording_hangup", admin=admin.name, stage="menu")
            return RecordPromptResult("hangup", admin.name, takes=takes)
        if choice is None:
            await ch.log("prompt_recording_abandoned", admin=admin.name, takes=takes)
            await ch.play(["goodbye"])
            return RecordPromptResult("abandoned", admin.name, takes=takes)
        if choice == LISTEN:
            # A key pressed while listening stays queued and answers the next menu.
            await ch.play_file(take.path, barge_in=True)
        elif choice == RERECORD:
            take = None
        elif choice == SAVE:
            try:
                # An admin who hangs up right after '3' still gets the prompt; the save
                # finishes before the caller of this function removes the take.
                number = await finish_even_if_cancelled(save(take.path, ch.language))
            except UnusableRecording as exc:
                await ch.log("prompt_recording_unusable", admin=admin.name, reason=str(exc))
                await ch.play(["record-empty"])
                take = None
                continue
            await ch.log(
                "prompt_recording_saved", admin=admin.name, number=number, seconds=take.seconds
            )
            await ch.play(["record-saved", *number_prompts(number, ch.language), "goodbye"])
            return RecordPromptResult("saved", admin.name, number, takes)


async def _authenticate(
    ch: RecordingChannel, find_admin: AdminLookup, settings: RecordPromptSettings
) -> Admin | RecordPromptResult:
    admin = find_admin(ch.a_number)
    if admin is None:
        await ch.log("prompt_recording_refused", reason="unknown caller id", caller=ch.a_number)
        await ch.play(["not-authorized", "goodbye"])
        return RecordPromptResult("refused")
    for attempt in range(1, settings.pin_attempts + 1):
        await ch.play(["enter-pin"], barge_in=True)
        res = await ch.collect_digits(
            8, settings.pin_first_timeout, settings.pin_inter_timeout, terminator="#"
        )
        if res.reason == "hangup":
            await ch.log("prompt_recording_hangup", admin=admin.name, stage="pin")
            return RecordPromptResult("hangup", admin.name)
        if res.digits and hmac.compare_digest(res.digits.encode(), admin.pin.encode()):
            return admin
        await ch.log(
            "prompt_recording_pin_wrong",
            admin=admin.name,
            attempt=attempt,
            reason="no digits" if not res.digits else "wrong PIN",
        )
        if attempt < settings.pin_attempts:
            await ch.play(["pin-wrong"])
    await ch.log("prompt_recording_refused", reason="wrong PIN", admin=admin.name)
    await ch.play(["not-authorized", "goodbye"])
    return RecordPromptResult("refused", admin.name)


async def _record_take(
    ch: RecordingChannel, scratch: Path, settings: RecordPromptSettings
) -> Recording:
    await ch.play(["record-instructions", "beep"])
    ch.flush_digits()
    return await ch.record_to(scratch, settings.max_seconds, settings.silence_seconds)


async def _menu(ch: RecordingChannel, settings: RecordPromptSettings) -> str | None:
    """'1', '2' or '3'; None after ``menu_rounds`` without a valid key; "hangup"."""
    for _ in range(settings.menu_rounds):
        await ch.play(["record-menu"], barge_in=True)
        res = await ch.collect_digits(1, settings.menu_timeout, settings.menu_timeout, "")
        if res.reason == "hangup":
            return "hangup"
        if res.digits in (LISTEN, RERECORD, SAVE):
            return res.digits
        if res.digits:
            await ch.play(["invalid-choice"])
    return None
