"""Scheduled logins (SPEC S4) for every front door: create, list, delete, staffing view.

The rules are ``acd.schedule``'s (overlaps refused, only future schedules deleted); rows
are stored before the answer, so a schedule survives a restart; every change is audited
and handed to the executor that logs agents in and out (``vaxel/calls/schedule_runner.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from acd import LoginSchedule, ScheduleError, StaffingRow, check_delete, check_new, staffing
from vaxel.storage.models import LoginScheduleRow

from .audit import Actor, AuditLog
from .errors import ErrorKind, ServiceError

SCHEDULE_FIELDS = frozenset({"agent", "first_day", "last_day", "start", "end", "number"})


def schedule_json(s: LoginSchedule) -> dict[str, Any]:
    return {
        "id": s.id,
        "agent": s.agent,
        "first_day": s.first_day.isoformat(),
        "last_day": s.last_day.isoformat(),
        "start": s.start.isoformat("minutes"),
        "end": s.end.isoformat("minutes"),
        "zone": s.zone,
        "number": s.number,
    }


def staffing_json(row: StaffingRow) -> dict[str, Any]:
    return {
        "day": row.day.isoformat(),
        "agent": row.agent,
        "start": row.start.isoformat("minutes"),
        "end": row.end.isoformat("minutes"),
        "number": row.number,
        "schedule": row.schedule,
    }


def _row_schedule(r: LoginScheduleRow) -> LoginSchedule:
    return LoginSchedule(
        r.id,
        r.agent,
        r.first_day,
        r.last_day,
        clock_time.fromisoformat(r.start),
        clock_time.fromisoformat(r.end),
        r.zone,
        r.number,
    )


def _date(body: Mapping[str, Any], key: str) -> date:
    value = body.get(key)
    if not isinstance(value, str):
        raise ServiceError("invalid", f"{key}: expected a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ServiceError("invalid", f"{key}: expected a date YYYY-MM-DD, got {value!r}") from None


def _clock(body: Mapping[str, Any], key: str) -> clock_time:
    value = body.get(key)
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        return clock_time.fromisoformat(value)
    except ValueError:
        raise ServiceError("invalid", f"{key}: expected a time HH:MM, got {value!r}") from None


class ScheduleService:
    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        audit: AuditLog,
        *,
        zone: str,
        agent_number: Callable[[str], str | None],  # the agent's remote-login number, or None
        changed: Callable[[list[LoginSchedule]], None] = lambda schedules: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self.zone = zone
        self._agent_number = agent_number
        self._changed = changed
        self._clock = clock
        self.schedules: list[LoginSchedule] = []

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def load(self) -> list[LoginSchedule]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(LoginScheduleRow))).all()
        self.schedules = sorted((_row_schedule(r) for r in rows), key=lambda s: s.id)
        self._changed(list(self.schedules))
        return self.schedules

    async def create(self, actor: Actor, body: Mapping[str, Any]) -> LoginSchedule:
        unknown = sorted(set(body) - SCHEDULE_FIELDS)
        if unknown:
            raise ServiceError("invalid", f"{unknown[0]}: unknown field (fields: agent, "
                               "first_day, last_day, start, end, number)")  # fmt: skip
        agent = body.get("agent")
        if not isinstance(agent, str) or not agent:
            raise ServiceError("invalid", f"agent: expected an agent id, got {agent!r}")
        number = body.get("number")
        if number is not None and (not isinstance(number, str) or not number.strip()):
            raise ServiceError("invalid", f"number: expected a phone number, got {number!r}")
        try:
            known = self._agent_number(agent)
        except KeyError:
            raise ServiceError("not_found", f"agent: unknown agent {agent!r}") from None
        if number is None and known is None:
            raise ServiceError(
                "invalid",
                f"number: agent {agent!r} has no remote-login number; give the number to log in on",
            )
        try:
            new = LoginSchedule(
                0,
                agent,
                _date(body, "first_day"),
                _date(body, "last_day"),
                _clock(body, "start"),
                _clock(body, "end"),
                self.zone,
                number,
            )
            check_new(new, self.schedules, self._now())
        except ScheduleError as exc:
            kind: ErrorKind = "conflict" if "overlaps" in str(exc) else "invalid"
            raise ServiceError(kind, str(exc)) from None
        row = LoginScheduleRow(
            agent=new.agent,
            first_day=new.first_day,
            last_day=new.last_day,
            start=new.start.isoformat("minutes"),
            end=new.end.isoformat("minutes"),
            zone=new.zone,
            number=new.number,
            created_at=self._now(),
            created_by=actor.name,
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        stored = _row_schedule(row)
        self.schedules.append(stored)
        await self._audit.record(actor, "schedule.created", f"schedule {stored.id}",
                                 after=schedule_json(stored))  # fmt: skip
        self._changed(list(self.schedules))
        return stored

    async def delete(self, actor: Actor, schedule_id: int) -> None:
        found = next((s for s in self.schedules if s.id == schedule_id), None)
        if found is None:
            raise ServiceError("not_found", f"schedule {schedule_id}: no such schedule")
        try:
            check_delete(found, self._now())
        except ScheduleError as exc:
            raise ServiceError("conflict", str(exc)) from None
        async with self._sessions() as session, session.begin():
            await session.execute(delete(LoginScheduleRow).where(LoginScheduleRow.id == found.id))
        self.schedules.remove(found)
        await self._audit.record(actor, "schedule.deleted", f"schedule {found.id}",
                                 before=schedule_json(found))  # fmt: skip
        self._changed(list(self.schedules))

    def staffing(self, first: date, last: date) -> list[StaffingRow]:
        if last < first:
            raise ServiceError("invalid", "to: before from")
        if (last - first).days > 366:
            raise ServiceError("invalid", "to: at most a year after from")
        return staffing(self.schedules, first, last)
