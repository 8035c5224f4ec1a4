"""Calendar explanation (SPEC S6): open or closed at a moment, which rule decided, and when
that changes. Shared by ``GET /api/calendars/{id}/status``, the SSH console and
``vaxel calendar``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from acd import Calendar, CalendarConfig, CalendarSet
from config import VaxelConfig


class UnknownCalendar(LookupError):
    pass


def calendar_set(
    config: VaxelConfig, configs: Mapping[str, CalendarConfig] | None = None
) -> CalendarSet:
    """The same calendars the call stack builds: base plus queues' own. ``configs``: the
    calendars in force when they differ from the file (deviations added at runtime)."""
    cals = {**config.calendars, **(configs or {})}
    base = Calendar(cals.get("base") or CalendarConfig(), name="base")
    own = {
        qid: Calendar(cals[q.calendar], name=q.calendar)
        for qid, q in config.queues.items()
        if q.calendar is not None
    }
    return CalendarSet(base, own)


def calendar_ids(config: VaxelConfig) -> list[str]:
    return ["base", *sorted(c for c in config.calendars if c != "base")]


def find_calendar(
    config: VaxelConfig, cid: str, configs: Mapping[str, CalendarConfig] | None = None
) -> tuple[Calendar, str | None]:
    """``cid`` is ``base``, a configured calendar id or a queue id (its effective calendar).
    Returns the calendar and the queue it was looked up for (None for a calendar id)."""
    if cid == "base":
        return calendar_set(config, configs).base, None
    if cid in config.calendars:
        cfg = (configs or {}).get(cid) or config.calendars[cid]
        return Calendar(cfg, name=cid), None
    if cid in config.queues:
        return calendar_set(config, configs).for_queue(cid), cid
    known = ", ".join([*calendar_ids(config), *(f"queue {q}" for q in config.queues)])
    raise UnknownCalendar(f"no calendar or queue {cid!r} (known: {known})")


def explain(calendar: Calendar, at: datetime, queue: str | None = None) -> dict[str, Any]:
    """A JSON-ready explanation of ``calendar`` at ``at`` (aware datetime)."""
    decision = calendar.status(at)
    deviation = None
    if decision.deviation_index is not None:
        dev = calendar.config.deviations[decision.deviation_index]
        deviation = {
            "number": decision.deviation_index + 1,  # operators count deviations from 1
            "name": dev.name or None,
            "status": dev.status,
        }
    change = calendar.next_change(at)
    skipped = [
        {"number": i + 1, "name": calendar.config.deviations[i].name or None}
        for i in decision.skipped_on_holiday
    ]
    return {
        "calendar": calendar.name,
        "queue": queue,
        "timezone": calendar.config.timezone,
        "at": at.astimezone(calendar.tz).isoformat(),
        "open": decision.open,
        "rule": decision.rule,
        "detail": decision.detail,
        "deviation": deviation,
        "holiday": decision.holiday_name,
        # Deviations that matched but give way to the holiday (no `on_holidays = true`).
        "skipped_on_holiday": skipped,
        "prompt": decision.prompt,
        "next_change": change.isoformat() if change else None,
        "next_status": None if change is None else ("closed" if decision.open else "open"),
    }


def format_explanation(e: dict[str, Any]) -> str:
    """The explanation as lines for a terminal."""
    lines = [
        f"calendar:    {e['calendar']}"
        + (f" (effective for queue {e['queue']})" if e["queue"] else ""),
        f"time zone:   {e['timezone']}",
        f"at:          {e['at']}",
        f"status:      {'OPEN' if e['open'] else 'CLOSED'}",
        f"decided by:  {e['detail']}",
    ]
    if e["holiday"] and e["rule"] != "holiday":
        lines.append(f"holiday:     {e['holiday']} (overridden by the deviation)")
    for dev in e.get("skipped_on_holiday", ()):
        label = f"deviation {dev['number']}" + (f" ({dev['name']})" if dev["name"] else "")
        lines.append(f"not applied: {label}: not on holidays (on_holidays = true would apply it)")
    if e["prompt"]:
        lines.append(
            "prompt:      " + ", ".join(f"{lang}={name}" for lang, name in e["prompt"].items())
        )
    if e["next_change"]:
        lines.append(f"next change: {e['next_change']} ({e['next_status']})")
    else:
        lines.append("next change: none within 400 days")
    return "\n".join(lines)
