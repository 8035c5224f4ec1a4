"""Calendar deviations added at runtime (SPEC S6): stored, audited, in force at once.

A deviation added through the API comes *before* the configured deviations of its
calendar (the newest first): the operator's change of today wins over the file's rules,
as the one who adds "closed for lunch" expects. Each is stored before the answer, so it
survives a restart, and the running calendars (what callers get) are rebuilt at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from acd import Calendar, CalendarConfig, CalendarSet, DeviationConfig
from config import VaxelConfig
from vaxel.storage.models import CalendarDeviationRow

from .audit import Actor, AuditLog
from .errors import ServiceError

DEVIATION_FIELDS = frozenset(DeviationConfig.model_fields)


def parse_deviation(body: Mapping[str, Any]) -> DeviationConfig:
    """A deviation from the API's JSON (same fields as in the TOML), or ServiceError."""
    unknown = sorted(set(body) - DEVIATION_FIELDS)
    if unknown:
        raise ServiceError(
            "invalid",
            f"field {unknown[0]!r}: unknown (allowed: {', '.join(sorted(DEVIATION_FIELDS))})",
        )
    try:
        return DeviationConfig.model_validate(dict(body))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "deviation"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ServiceError("invalid", f"field {where!r}: {msg}") from None


class CalendarDeviations:
    def __init__(
        self, sessions: async_sessionmaker, config: VaxelConfig, calendars: CalendarSet
    ) -> None:
        self._sessions = sessions
        self.config = config
        self.calendars = calendars  # the running set, which callers' calls read
        self._added: dict[str, list[tuple[int, dict[str, Any], DeviationConfig]]] = {}

    # ------------------------------------------------------------------ reading

    def calendar_ids(self) -> list[str]:
        return ["base", *sorted(c for c in self.config.calendars if c != "base")]

    def check_calendar(self, cid: str) -> None:
        if cid in self.calendar_ids():
            return
        if cid in self.config.queues:
            used = self.config.queues[cid].calendar or "base"
            raise ServiceError(
                "not_found", f"{cid!r} is a queue: add the deviation to its calendar {used!r}"
            )
        raise ServiceError(
            "not_found", f"no calendar {cid!r} (known: {', '.join(self.calendar_ids())})"
        )

    def effective(self, cid: str) -> CalendarConfig:
        """The calendar's configuration with the added deviations in front."""
        cfg = self.config.calendars.get(cid) or CalendarConfig()
        added = [dev for _, _, dev in reversed(self._added.get(cid, []))]
        if not added:
            return cfg
        return cfg.model_copy(update={"deviations": [*added, *cfg.deviations]})

    def effective_all(self) -> dict[str, CalendarConfig]:
        return {cid: self.effective(cid) for cid in self.calendar_ids()}

    def listing(self, cid: str) -> list[dict[str, Any]]:
        """Every deviation in the order they are tried, numbered as explanations count."""
        self.check_calendar(cid)
        out: list[dict[str, Any]] = []
        for row_id, spec, dev in reversed(self._added.get(cid, [])):
            out.append(_dev_json(dev, row_id, "api", spec))
        base = self.config.calendars.get(cid) or CalendarConfig()
        for dev in base.deviations:
            out.append(_dev_json(dev, None, "config", None))
        for number, item in enumerate(out, start=1):
            item["number"] = number
        return out

    # ------------------------------------------------------------------ changing

    async def load(self) -> None:
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(CalendarDeviationRow).order_by(CalendarDeviationRow.id)
                )
            ).all()
        self._added.clear()
        for r in rows:
            if r.calendar not in self.calendar_ids():
                continue  # its calendar left the configuration: kept, not applied
            try:
                dev = parse_deviation(r.spec)
            except ServiceError:
                continue
            self._added.setdefault(r.calendar, []).append((r.id, dict(r.spec), dev))
        for cid in self._added:
            self._apply(cid)

    async def add(
        self, actor: Actor, audit: AuditLog, cid: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.check_calendar(cid)
        dev = parse_deviation(body)
        spec = dict(body)
        async with self._sessions() as session, session.begin():
            row = CalendarDeviationRow(
                calendar=cid, spec=spec, created_at=datetime.now(UTC), created_by=actor.name
            )
            session.add(row)
            await session.flush()
            row_id = row.id
        self._added.setdefault(cid, []).append((row_id, spec, dev))
        self._apply(cid)
        await audit.record(actor, "calendar.deviation.add", f"calendar {cid}", after=spec)
        return next(d for d in self.listing(cid) if d["id"] == row_id)

    async def remove(self, actor: Actor, audit: AuditLog, cid: str, dev_id: int) -> None:
        self.check_calendar(cid)
        items = self._added.get(cid, [])
        found = next((item for item in items if item[0] == dev_id), None)
        if found is None:
            raise ServiceError(
                "not_found",
                f"calendar {cid!r} has no added deviation {dev_id} "
                "(deviations from the configuration file are changed there)",
            )
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(CalendarDeviationRow).where(CalendarDeviationRow.id == dev_id)
            )
        items.remove(found)
        self._apply(cid)
        await audit.record(actor, "calendar.deviation.remove", f"calendar {cid}", before=found[1])

    def _apply(self, cid: str) -> None:
        """Rebuild the running calendars that are ``cid``: calls from now on see the change."""
        cfg = self.effective(cid)
        if cid == "base":
            self.calendars.base = Calendar(cfg, name="base")
        for qid, q in self.config.queues.items():
            if q.calendar == cid:
                self.calendars.own[qid] = Calendar(cfg, name=cid)


def _dev_json(
    dev: DeviationConfig, row_id: int | None, source: str, spec: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": row_id,
        "source": source,  # "api": added at runtime (may be removed); "config": the file's
        "status": dev.status,
        "name": dev.name or None,
        "when": dev.describe(),
        "spec": spec,
    }
