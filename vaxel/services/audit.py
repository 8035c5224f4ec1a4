"""The audit trail: every administrative change, who made it, through which door, from
where, what it was before and after, and when. Front doors share it; GET /api/audit reads it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from access import Principal
from vaxel.storage.models import AuditRow, as_utc

Door = Literal["api", "ssh", "web", "cli"]


@dataclass(frozen=True)
class Actor:
    """Who asks, through which front door, from which address."""

    principal: Principal | None
    via: Door
    source: str | None = None
    # The name tried, when nobody is authenticated (a failed login).
    claimed: str | None = None

    @property
    def name(self) -> str:
        if self.principal is not None:
            return self.principal.name
        return self.claimed or "anonymous"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    role: str | None
    via: str
    source: str | None
    action: str
    target: str | None
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "via": self.via,
            "source": self.source,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }


class AuditLog:
    def __init__(self, sessions: async_sessionmaker, *, clock: Any = time.time) -> None:
        self._sessions = sessions
        self._clock = clock

    async def record(
        self,
        actor: Actor,
        action: str,
        target: str | None = None,
        *,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Write one entry and return once it is committed."""
        row = {
            "at": datetime.fromtimestamp(self._clock(), UTC),
            "actor": actor.name,
            "role": actor.principal.role.value if actor.principal is not None else None,
            "via": actor.via,
            "source": actor.source,
            "action": action,
            "target": target,
            "before": before,
            "after": after,
        }
        async with self._sessions.begin() as session:
            await session.execute(insert(AuditRow).values(**row))

    async def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        if until is not None:
            query = query.where(AuditRow.at < until)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if target is not None:
            query = query.where(AuditRow.target == target)
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [
            AuditEntry(
                r.id,
                as_utc(r.at),
                r.actor,
                r.role,
                r.via,
                r.source,
                r.action,
                r.target,
                r.before,
                r.after,
            )
            for r in rows
        ]
