"""When something happened, as prompt names: "Received today at fourteen zero five",
"Mottaget i måndags klockan nio", "Received on the third of December at eight thirty".

Pure: the moment, now and the time zone come in (the mailbox's calendar's zone), so the
day is the listener's day, not the server's. Times are said on the 24-hour clock, the
minutes as two digits ("zero five"), none on the full hour. The year is not said: a
message older than a year names its day and month only.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from .catalog import number_prompts

_WEEK = 7


def day_prompts(at: datetime, now: datetime, zone: tzinfo) -> list[str]:
    """"today", "yesterday", a weekday of the past week, else the date (day and month)."""
    day = at.astimezone(zone).date()
    days_ago = (now.astimezone(zone).date() - day).days
    if days_ago <= 0:  # today (or a clock a little ahead: still today)
        return ["today"]
    if days_ago == 1:
        return ["yesterday"]
    if days_ago < _WEEK:
        return [f"on-weekday-{day.isoweekday()}"]
    return [f"on-day-{day.day}", f"month-{day.month}"]


def time_prompts(at: datetime, zone: tzinfo, lang: str) -> list[str]:
    """"at" and the time of day on the 24-hour clock in ``zone``."""
    local = at.astimezone(zone)
    words = ["at-clock", *number_prompts(local.hour, lang)]
    if local.minute == 0:
        return words
    if local.minute < 10:
        return [*words, "digit-0", f"digit-{local.minute}"]
    return [*words, *number_prompts(local.minute, lang)]


def received_prompts(at: datetime, now: datetime, zone: tzinfo, lang: str) -> list[str]:
    """What precedes a voicemail message: when it came."""
    return ["vm-received", *day_prompts(at, now, zone), *time_prompts(at, zone, lang)]
