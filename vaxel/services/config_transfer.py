"""``vaxel config export`` / ``vaxel config import FILE``: the administered configuration
between the database and a TOML file.

Export writes what the server runs with: the file's own sections plus the stored agents,
queues, numbers ... (the file's when the database is still empty). Import validates the
whole file, and the result together with the running file's sections, before it writes
anything; then it replaces every stored document in one transaction. An error changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from config import MANAGED, VaxelConfig, documents_of, parse_config, to_toml, with_documents
from vaxel.storage import migrate, sessionmaker
from vaxel.storage.config_store import ConfigStore

from .audit import Actor, AuditLog


async def export_config(file_config: VaxelConfig, engine: AsyncEngine) -> str:
    await migrate(engine)
    store = ConfigStore(sessionmaker(engine))
    if await store.is_empty():
        return to_toml(with_documents(file_config, documents_of(file_config)))
    docs, _ = await store.load()
    return to_toml(with_documents(file_config, docs))


@dataclass(frozen=True)
class ImportResult:
    counts: dict[str, int]
    ignored: list[str]  # sections of the imported file that are not administered


async def import_config(
    file_config: VaxelConfig, engine: AsyncEngine, text: str, *, source: str
) -> ImportResult:
    """Raises ``ConfigError`` (naming each field) before anything is written."""
    imported = parse_config(text, source=source)
    docs = documents_of(imported)
    with_documents(file_config, docs, source=source)  # references to the file's flows ...
    await migrate(engine)
    sessions = sessionmaker(engine)
    store = ConfigStore(sessions)
    before, _ = await store.load()
    await store.replace_all(docs)
    await AuditLog(sessions).record(
        Actor(None, "cli", claimed="vaxel config import"),
        "config.imported",
        source,
        before={k: sorted(v) for k, v in before.items()},
        after={k: sorted(v) for k, v in docs.items()},
    )
    ignored = [s for s in ("users",) if getattr(imported, s)]
    return ImportResult({s: len(docs[s]) for s in MANAGED}, ignored)
