"""Opening-hours calendars with public holidays and ordered deviations (SPEC S6).

A pure decision core: nothing here reads the clock. Callers pass the moment to
judge (an aware ``datetime`` or a UNIX timestamp) and get a `CalendarDecision`
that says open or closed and why.

Evaluation order for a moment ``at`` (converted to the calendar's time zone):

1. Deviations, top to bottom; every filled condition must match; the first
   matching deviation decides. On a closed holiday only deviations that name
   the date (``date``) or say ``on_holidays = true`` are tested: a weekly
   "open late on Thursdays" must not open Ascension Day.
2. Public holidays (and, if enabled, the customary eves) are closed.
3. Base weekly hours decide.

Time boundaries are wall-clock times in the calendar's zone. A boundary ``T``
on date ``D`` is the first moment of ``D`` at which the clock shows ``T`` or
later: a time skipped by a spring-forward jump means the moment of the jump,
a time that occurs twice in autumn means its first occurrence.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "Calendar",
    "CalendarConfig",
    "CalendarConfigError",
    "CalendarDecision",
    "CalendarSet",
    "DeviationConfig",
    "TimeRange",
    "WEEKDAYS",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES: dict[str, int] = {}
for _i, _full in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
):
    _WEEKDAY_ALIASES[_full] = _i
    _WEEKDAY_ALIASES[_full[:3]] = _i

_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Holiday-package names that only mean "a Sunday" (older versions of the SE
# calendar listed every Sunday); an ordinary Sunday must follow base hours.
_SUNDAY_NAMES = frozenset({"Söndag", "Sunday"})


class CalendarConfigError(ValueError):
    """Calendar configuration that cannot be used; the message names field and reason."""


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open wall-clock interval [start, end) within one day; end may be 24:00."""

    start_minute: int
    end_minute: int

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        m = _RANGE_RE.match(text) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f'expected "HH:MM-HH:MM", got {text!r}')
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ValueError(f"time out of range in {text!r} (00:00..24:00)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(
                f"end must be after start in {text!r}; split an interval that passes "
                "midnight into two (e.g. 22:00-24:00 and 00:00-02:00 the next day)"
            )
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_fmt_minute(self.start_minute)}-{_fmt_minute(self.end_minute)}"


def _fmt_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_weekday(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().lower() in _WEEKDAY_ALIASES:
        return _WEEKDAY_ALIASES[value.strip().lower()]
    raise ValueError(f"expected a weekday (mon..sun or monday..sunday), got {value!r}")


def _parse_ranges(value: Any) -> list[TimeRange]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f'expected a list of "HH:MM-HH:MM" strings, got {value!r}')
    ranges = sorted(
        (v if isinstance(v, TimeRange) else TimeRange.parse(v) for v in value),
        key=lambda r: r.start_minute,
    )
    for a, b in zip(ranges, ranges[1:], strict=False):
        if b.start_minute < a.end_minute:
            raise ValueError(f"intervals {a} and {b} overlap")
    return ranges


def _default_hours() -> dict[int, list[TimeRange]]:
    return {d: [TimeRange(8 * 60, 17 * 60)] for d in range(5)}


class DeviationConfig(BaseModel):
    """One ordered exception. Every filled condition must match for it to apply."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    status: Literal["open", "closed"]
    name: str = ""
    date: _dt.date | None = None
    date_from: _dt.date | None = None
    date_to: _dt.date | None = None
    weekdays: list[int] | None = None
    time: TimeRange | None = None
    # Ignore the year of date/date_from/date_to: the deviation comes back every year.
    recurring: bool = False
    # Closed deviations only: language code -> prompt name, played while it applies.
    prompt: dict[str, str] | None = None
    # On closed holidays: None = only if the deviation names the date (`date`); holidays
    # win over weekly and date-range deviations, as operators expect. True/False: always/never.
    on_holidays: bool | None = None

    @field_validator("weekdays", mode="before")
    @classmethod
    def _weekdays(cls, v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not v:
            raise ValueError(f"expected a non-empty list of weekdays, got {v!r}")
        return sorted({_parse_weekday(d) for d in v})

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, v: Any) -> Any:
        if v is None or isinstance(v, TimeRange):
            return v
        return TimeRange.parse(v)

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt(cls, v: Any) -> Any:
        if isinstance(v, str):
            raise ValueError('expected a table of language -> prompt name, e.g. {sv = "lunch"}')
        return v

    @model_validator(mode="after")
    def _consistent(self) -> DeviationConfig:
        if (self.date_from is None) != (self.date_to is None):
            raise ValueError("date_from and date_to must be given together")
        if (
            self.date_from is not None
            and self.date_to is not None
            and not self.recurring
            and self.date_to < self.date_from
        ):
            raise ValueError(f"date_to {self.date_to} is before date_from {self.date_from}")
        if self.recurring and self.date is None and self.date_from is None:
            raise ValueError("recurring needs date or date_from/date_to")
        if self.prompt and self.status == "open":
            raise ValueError("only a closed deviation can carry its own prompt")
        return self

    @field_validator("on_holidays", mode="before")
    @classmethod
    def _on_holidays(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, bool):
            raise ValueError(f"expected true or false, got {v!r}")
        return v

    @property
    def applies_on_holidays(self) -> bool:
        """Whether the deviation is tested on a closed holiday (see ``on_holidays``)."""
        return self.date is not None if self.on_holidays is None else self.on_holidays

    def matches(self, local: _dt.date, minute_of_day_ok: bool) -> bool:
        """Date conditions against ``local``; the time condition is pre-evaluated by the caller."""
        if self.weekdays is not None and local.weekday() not in self.weekdays:
            return False
        if self.date is not None and not _same_day(self.date, local, self.recurring):
            return False
        if (
            self.date_from is not None
            and self.date_to is not None
            and not _in_date_range(self.date_from, self.date_to, local, self.recurring)
        ):
            return False
        return minute_of_day_ok

    def describe(self) -> str:
        parts: list[str] = []
        if self.date is not None:
            parts.append(self.date.strftime("%m-%d") if self.recurring else self.date.isoformat())
        if self.date_from is not None and self.date_to is not None:
            fmt = "%m-%d" if self.recurring else "%Y-%m-%d"
            parts.append(f"{self.date_from.strftime(fmt)}..{self.date_to.strftime(fmt)}")
        if self.recurring:
            parts.append("every year")
        if self.weekdays is not None:
            parts.append(",".join(WEEKDAYS[d].capitalize() for d in self.weekdays))
        if self.time is not None:
            parts.append(str(self.time))
        return " ".join(parts) if parts else "always"


def _same_day(rule: date, local: date, recurring: bool) -> bool:
    if recurring:
        return (rule.month, rule.day) == (local.month, local.day)
    return rule == local


def _in_date_range(start: date, end: date, local: date, recurring: bool) -> bool:
    if not recurring:
        return start <= local <= end
    lo, hi, x = (start.month, start.day), (end.month, end.day), (local.month, local.day)
    if lo <= hi:
        return lo <= x <= hi
    return x >= lo or x <= hi  # wraps the new year, e.g. 12-24..01-06


class CalendarConfig(BaseModel):
    """A calendar as configured: time zone, weekly hours, holidays and deviations."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    timezone: str = "Europe/Stockholm"
    # Weekday -> intervals; a missing weekday is closed all day.
    hours: dict[int, list[TimeRange]] = Field(default_factory=_default_hours)
    holiday_country: str | None = "SE"
    holiday_subdivision: str | None = None
    # Language of holiday names in explanations; None = the country's own language.
    holiday_language: str | None = None
    closed_on_holidays: bool = True
    # Midsummer Eve, Christmas Eve, New Year's Eve in Sweden ("de facto" holidays).
    closed_on_customary_eves: bool = True
    deviations: list[DeviationConfig] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name such as Europe/Stockholm)"
            ) from None
        return v

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, v: Any) -> Any:
        if not isinstance(v, Mapping):
            raise ValueError(f"expected a table weekday -> intervals, got {v!r}")
        out: dict[int, list[TimeRange]] = {}
        for key, ranges in v.items():
            day = _parse_weekday(key)
            if day in out:
                raise ValueError(f"weekday {key!r} given twice")
            try:
                out[day] = _parse_ranges(ranges)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return out

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if not v:
            return None
        code = v.upper()
        if code not in holidays.list_supported_countries():
            raise ValueError(f"holidays are not known for country {v!r} (use ISO code, e.g. SE)")
        return code


def _format_errors(exc: ValidationError, where: str) -> str:
    lines = []
    for err in exc.errors():
        loc = where
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else f".{part}"
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = err.get("input")
        if "got" not in msg and not isinstance(value, Mapping):
            msg += f" (got {value!r})"
        lines.append(f"{loc}: {msg}")
    return "; ".join(lines)


def parse_calendar_config(data: Mapping[str, Any], where: str = "calendar") -> CalendarConfig:
    """Validate a plain dict (e.g. a TOML table); errors name the field and the reason."""
    try:
        return CalendarConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise CalendarConfigError(_format_errors(exc, where)) from None


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class CalendarDecision:
    """Open or closed, and why.

    ``rule`` is "deviation", "holiday" or "base"; ``detail`` is human-readable;
    ``deviation_index`` is the 0-based position of the deciding deviation
    (the detail text numbers deviations from 1, as an operator counts them);
    ``holiday_name`` is set whenever the local date is a closed holiday, even if
    a deviation decided; ``prompt`` is the deciding closed deviation's own
    prompt per language, if any; ``skipped_on_holiday`` are the 0-based
    positions of deviations that matched but do not apply on the holiday.
    """

    open: bool
    rule: str
    detail: str
    prompt: dict[str, str] | None = None
    deviation_index: int | None = None
    holiday_name: str | None = None
    skipped_on_holiday: tuple[int, ...] = ()


class Calendar:
    """One calendar; `status` judges a moment, `next_change` finds when it flips."""

    def __init__(self, config: CalendarConfig | Mapping[str, Any], name: str = "calendar") -> None:
        if not isinstance(config, CalendarConfig):
            config = parse_calendar_config(config, where=name)
        self.config = config
        self.name = name
        self.tz: tzinfo = ZoneInfo(config.timezone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str = "calendar") -> Calendar:
        return cls(parse_calendar_config(data, where=name), name=name)

    # -- holidays

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        cfg = self.config
        if not cfg.closed_on_holidays or cfg.holiday_country is None:
            return None
        cls = holidays.country_holidays(cfg.holiday_country).__class__
        categories = [holidays.PUBLIC]
        if cfg.closed_on_customary_eves and holidays.DE_FACTO in cls.supported_categories:
            categories.append(holidays.DE_FACTO)
        options: dict[str, Any] = {}
        if cfg.holiday_country == "SE":
            options["include_sundays"] = False
        # Pin the language: otherwise the names depend on the process locale.
        language = cfg.holiday_language or getattr(cls, "default_language", None)
        return holidays.country_holidays(
            cfg.holiday_country,
            subdiv=cfg.holiday_subdivision,
            language=language,
            categories=tuple(categories),
            **options,
        )

    def holiday_name(self, day: date) -> str | None:
        """The closed holiday on ``day`` (local date), or None."""
        hb = self._holidays
        if hb is None:
            return None
        names = [n for n in hb.get_list(day) if n not in _SUNDAY_NAMES]
        return "; ".join(names) if names else None

    # -- time arithmetic

    def _boundary(self, day: date, minute: int) -> datetime:
        """First moment of ``day`` at which the local clock shows ``minute`` or later."""
        if minute >= 24 * 60:
            return self._boundary(day + timedelta(days=1), 0)
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz)
        if _exists(wall):
            return wall.replace(fold=0).astimezone(UTC)
        # In a spring-forward gap: the jump itself. Search between the two readings.
        lo = wall.replace(fold=1).astimezone(UTC)
        hi = wall.replace(fold=0).astimezone(UTC)
        if hi < lo:
            lo, hi = hi, lo
        wall_naive = wall.replace(tzinfo=None)
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            if mid.astimezone(self.tz).replace(tzinfo=None) >= wall_naive:
                hi = mid
            else:
                lo = mid
        return hi.replace(microsecond=0)

    def _within(self, at_utc: datetime, day: date, r: TimeRange) -> bool:
        return self._boundary(day, r.start_minute) <= at_utc < self._boundary(day, r.end_minute)

    # -- decisions

    def status(self, at: datetime | float) -> CalendarDecision:
        """Open or closed at ``at`` (aware datetime, or UNIX seconds), with the reason."""
        at_utc = _to_utc(at)
        local = at_utc.astimezone(self.tz)
        day = local.date()
        holiday = self.holiday_name(day)
        skipped: list[int] = []

        for index, dev in enumerate(self.config.deviations):
            time_ok = dev.time is None or self._within(at_utc, day, dev.time)
            if not dev.matches(day, time_ok):
                continue
            if holiday is not None and not dev.applies_on_holidays:
                skipped.append(index)
                continue
            return CalendarDecision(
                open=dev.status == "open",
                rule="deviation",
                detail=f"{self._label(index)}: {dev.status} {dev.describe()}",
                prompt=dict(dev.prompt) if dev.prompt else None,
                deviation_index=index,
                holiday_name=holiday,
            )

        if holiday is not None:
            detail = f"holiday: {holiday}"
            if skipped:
                labels = ", ".join(self._label(i) for i in skipped)
                verb = "does" if len(skipped) == 1 else "do"
                detail += f" ({labels} {verb} not apply on holidays)"
            return CalendarDecision(
                open=False,
                rule="holiday",
                detail=detail,
                holiday_name=holiday,
                skipped_on_holiday=tuple(skipped),
            )

        weekday = WEEKDAYS[day.weekday()].capitalize()
        ranges = self.config.hours.get(day.weekday(), [])
        for r in ranges:
            if self._within(at_utc, day, r):
                return CalendarDecision(open=True, rule="base", detail=f"base hours {weekday} {r}")
        if not ranges:
            return CalendarDecision(open=False, rule="base", detail=f"no base hours on {weekday}")
        listed = ", ".join(str(r) for r in ranges)
        return CalendarDecision(
            open=False, rule="base", detail=f"outside base hours {weekday} {listed}"
        )

    def _label(self, index: int) -> str:
        name = self.config.deviations[index].name
        return f"deviation {index + 1}" + (f" ({name})" if name else "")

    def is_open(self, at: datetime | float) -> bool:
        return self.status(at).open

    def next_change(self, at: datetime | float, horizon_days: int = 400) -> datetime | None:
        """The first moment after ``at`` at which open/closed differs from now.

        Status can only change at local midnights and at interval boundaries, so
        those are the only moments tested. Returns an aware datetime in the
        calendar's zone, or None if nothing changes within ``horizon_days``.
        """
        at_utc = _to_utc(at)
        current = self.status(at_utc).open
        first_day = at_utc.astimezone(self.tz).date()
        for offset in range(horizon_days + 1):
            day = first_day + timedelta(days=offset)
            for moment in self._candidates(day):
                if moment > at_utc and self.status(moment).open != current:
                    return moment.astimezone(self.tz)
        return None

    def _candidates(self, day: date) -> list[datetime]:
        minutes = {0}
        for r in self.config.hours.get(day.weekday(), []):
            minutes.update((r.start_minute, r.end_minute))
        for dev in self.config.deviations:
            if dev.time is not None:
                minutes.update((dev.time.start_minute, dev.time.end_minute))
        return sorted({self._boundary(day, m) for m in minutes})


def _exists(wall: datetime) -> bool:
    back = wall.astimezone(UTC).astimezone(wall.tzinfo)
    return back.replace(tzinfo=None) == wall.replace(tzinfo=None)


def _to_utc(at: datetime | float) -> datetime:
    if isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(
                f"calendar status needs an aware datetime (with tzinfo), got naive {at!r}"
            )
        return at.astimezone(UTC)
    if isinstance(at, int | float) and not isinstance(at, bool):
        return datetime.fromtimestamp(at, UTC)
    raise TypeError(f"expected an aware datetime or UNIX seconds, got {type(at).__name__}")


class CalendarSet:
    """The system's base calendar plus queues' own calendars ("own calendar" ticked)."""

    def __init__(self, base: Calendar, own: Mapping[str, Calendar] | None = None) -> None:
        self.base = base
        self.own: dict[str, Calendar] = dict(own or {})

    @classmethod
    def from_config(
        cls,
        base: CalendarConfig | Mapping[str, Any],
        queues: Mapping[str, CalendarConfig | Mapping[str, Any]] | None = None,
    ) -> CalendarSet:
        own = {q: Calendar(c, name=f"queues.{q}.calendar") for q, c in (queues or {}).items()}
        return cls(Calendar(base, name="calendar"), own)

    def for_queue(self, queue: str) -> Calendar:
        """The queue's own calendar if it has one, else the base calendar."""
        return self.own.get(queue, self.base)

    def status(self, queue: str, at: datetime | float) -> CalendarDecision:
        return self.for_queue(queue).status(at)

    def queues_with_own_calendar(self) -> Iterable[str]:
        return self.own.keys()
