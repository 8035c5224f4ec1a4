"""Booking a callback by phone (SPEC S8): which number to call — the caller's own, or one
they key in (a hidden caller id must key one). The confirmation and the hang-up that
follow are the call core's."""

from __future__ import annotations

from .flow import CallerChannel

MIN_DIGITS, MAX_DIGITS = 3, 20


async def book_callback(ch: CallerChannel, *, retries: int = 2, timeout: float = 8.0) -> str | None:
    """The number to call back, or None (nothing usable keyed: the caller waits on)."""
    for _attempt in range(retries + 1):
        if ch.a_number:
            await ch.play(["callback-number"], barge_in=True)
            got = await ch.collect_digits(1, timeout, timeout, terminator="")
            if got.reason == "hangup":
                return None
            if got.digits == "1":
                return ch.a_number
            if got.digits != "2":
                await ch.log("callback_number_invalid", key=got.digits or None)
                if got.digits:
                    await ch.play(["invalid-choice"])
                continue
        number = await _keyed_number(ch, timeout)
        if number is not None:
            return number
    return None


async def _keyed_number(ch: CallerChannel, timeout: float) -> str | None:
    await ch.play(["callback-enter-number"], barge_in=True)
    got = await ch.collect_digits(MAX_DIGITS, timeout * 2, timeout, terminator="#")
    digits = got.digits
    if MIN_DIGITS <= len(digits) <= MAX_DIGITS and digits.isdigit():
        return digits
    await ch.log("callback_number_invalid", keyed=digits or None)
    await ch.play(["invalid-choice"])
    return None
