"""The administered configuration in the database: one versioned JSON document per entity.

Writes are compare-and-set on ``version`` inside a transaction, so two administrators who
edited the same version cannot both win (the second gets ``VersionMismatch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from .models import ConfigDocumentRow


class VersionMismatch(Exception):
    """The stored version is not the one the change was made against."""

    def __init__(self, current: int | None) -> None:
        super().__init__(f"current version {current}")
        self.current = current  # None: the document does not exist


class ConfigStore:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def is_empty(self) -> bool:
        async with self._sessions() as session:
            count = await session.scalar(select(func.count()).select_from(ConfigDocumentRow))
        return not count

    async def load(self) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], int]]:
        """All documents by kind and key, and each one's version."""
        docs: dict[str, dict[str, Any]] = {}
        versions: dict[tuple[str, str], int] = {}
        async with self._sessions() as session:
            rows = (await session.execute(select(ConfigDocumentRow))).scalars().all()
        # Keys in the order they were first stored would need a column; sorted is stable.
        for row in sorted(rows, key=lambda r: (r.kind, r.key)):
            docs.setdefault(row.kind, {})[row.key] = row.document
            versions[(row.kind, row.key)] = row.version
        return docs, versions

    async def replace_all(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Every document at once, in one transaction (seeding, ``vaxel config import``)."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            old = {
                (r.kind, r.key): r.version
                for r in (await session.execute(select(ConfigDocumentRow))).scalars().all()
            }
            await session.execute(delete(ConfigDocumentRow))
            for kind, entities in docs.items():
                for key, doc in entities.items():
                    session.add(
                        ConfigDocumentRow(
                            kind=kind,
                            key=key,
                            document=doc,
                            version=old.get((kind, key), 0) + 1,
                            updated_at=now,
                        )
                    )

    async def put(self, kind: str, key: str, doc: Any, expected: int | None) -> int:
        """Store ``doc``; ``expected`` is the version it replaces (None: it must be new).
        Returns the new version."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            current = await session.scalar(
                select(ConfigDocumentRow.version).where(
                    ConfigDocumentRow.kind == kind, ConfigDocumentRow.key == key
                )
            )
            if current != expected:
                raise VersionMismatch(current)
            if current is None:
                session.add(
                    ConfigDocumentRow(kind=kind, key=key, document=doc, version=1, updated_at=now)
                )
                return 1
            result = await session.execute(
                update(ConfigDocumentRow)
                .where(
                    ConfigDocumentRow.kind == kind,
                    ConfigDocumentRow.key == key,
                    ConfigDocumentRow.version == current,
                )
                .values(document=doc, version=current + 1, updated_at=now)
            )
            if result.rowcount != 1:
                raise VersionMismatch(None)
            return current + 1

    async def delete(self, kind: str, key: str, expected: int) -> None:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ConfigDocumentRow).where(
                    ConfigDocumentRow.kind == kind,
                    ConfigDocumentRow.key == key,
                    ConfigDocumentRow.version == expected,
                )
            )
            if result.rowcount != 1:
                current = await session.scalar(
                    select(ConfigDocumentRow.version).where(
                        ConfigDocumentRow.kind == kind, ConfigDocumentRow.key == key
                    )
                )
                raise VersionMismatch(current)
