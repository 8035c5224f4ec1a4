"""Finished days' report figures (``reports.Piece``), by zone, interval length, local day
and the queue thresholds they were computed with."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from reports import Piece

from .models import ReportPieceRow


class ReportPieceStore:
    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self._sessions = sessions

    async def get(self, zone: str, interval: str, day: date, rules: str) -> Piece | None:
        async with self._sessions() as session:
            row = await session.get(ReportPieceRow, (zone, interval, day.isoformat(), rules))
        return Piece.from_json(row.payload) if row is not None else None

    async def put(self, zone: str, interval: str, day: date, rules: str, piece: Piece) -> None:
        row = ReportPieceRow(
            zone=zone,
            interval=interval,
            day=day.isoformat(),
            rules=rules,
            payload=piece.to_json(),
            computed_at=datetime.now(UTC),
        )
        async with self._sessions() as session, session.begin():
            await session.merge(row)

    async def days(self, zone: str, interval: str, rules: str) -> set[date]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ReportPieceRow.day).where(
                    ReportPieceRow.zone == zone,
                    ReportPieceRow.interval == interval,
                    ReportPieceRow.rules == rules,
                )
            )
            return {date.fromisoformat(d) for d in rows}

    async def forget_from(self, day: date) -> None:
        """Drop the pieces of ``day`` and later (events were written into them)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(ReportPieceRow).where(ReportPieceRow.day >= day.isoformat())
            )
