"""Stored prompts (uploaded or recorded by phone), queue slot activations and hot prompts.

Files live in ``<directory>/<name>.wav`` (``server.data_dir / "prompts"``), where the call
stack's PromptResolver finds them for every language; the language column says what the
prompt is spoken in. Per-language choice happens where a prompt is referenced (a queue's
slot for that queue's language, a deviation's ``prompt = {sv = .., en = ..}``).

Standard prompt names are reserved: to replace the welcome message, store a prompt under a
new name and activate it in the queue's ``welcome`` slot.

Prompts recorded by phone are named ``rec-<number>`` with numbers from 1001 upwards; the
number is read out to the admin so the prompt can be found in the list afterwards.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import DateTime, String, delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from prompts import (
    LANGUAGES,
    STORED_NAME_RE,
    ConvertedPrompt,
    PromptFileError,
    convert_prompt,
    list_standard_prompts,
)
from vaxel.storage.models import Base, PromptRow, as_utc

if TYPE_CHECKING:
    from prompts import HotPrompts
    from vaxel.calls.flow_services import FlowServicesImpl

__all__ = [
    "FIRST_PHONE_NUMBER",
    "PHONE_PREFIX",
    "QUEUE_PROMPT_SLOTS",
    "PromptActivations",
    "PromptFileError",
    "PromptInfo",
    "PromptNameError",
    "PromptStore",
    "load_prompt_state",
    "validate_name",
]

PHONE_PREFIX = "rec-"
FIRST_PHONE_NUMBER = 1001
# Queue activities that play one prompt and can point at any prompt.
QUEUE_PROMPT_SLOTS: tuple[str, ...] = (
    "welcome",
    "queue-message",
    "closed",
    "callback-offer",
    "callback-confirm",
    "survey-welcome",
    "survey-thanks",
    "voicemail-prompt",
    "goodbye",
    "hold-music",
    "accept-call",
)
_STANDARD = {p.name: p for p in list_standard_prompts()}


class PromptNameError(ValueError):
    """A name that cannot be used (bad characters, reserved, taken, unknown)."""


class QueuePromptRow(Base):
    __tablename__ = "queue_prompts"

    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[str] = mapped_column(String(32), primary_key=True)
    prompt: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HotPromptRow(Base):
    __tablename__ = "hot_prompts"

    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    prompt: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


PromptSource = Literal["standard", "upload", "phone"]


@dataclass(frozen=True, slots=True)
class PromptInfo:
    name: str
    description: str
    wording: str
    language: str  # a language code; "*" for standard prompts (they exist in every language)
    source: PromptSource
    duration: float | None = None
    created_at: datetime | None = None
    path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat() if self.created_at else None
        d.pop("path")
        d["stored"] = self.source != "standard"
        return d


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not STORED_NAME_RE.match(name):
        raise PromptNameError(
            f"prompt name {name!r}: use 1-32 characters a-z, 0-9, '-' or '_', "
            "starting with a letter or digit"
        )
    if name in _STANDARD:
        raise PromptNameError(
            f"prompt name {name!r} is a standard prompt; store yours under another name "
            "and activate it in the queue's slot"
        )
    return name


class PromptStore:
    """Stored prompts: converted audio files plus their rows, never one without the other."""

    def __init__(self, sessions: async_sessionmaker, directory: Path) -> None:
        self.sessions = sessions
        self.directory = Path(directory)
        self._lock = asyncio.Lock()  # one writer at a time keeps file and row in step

    def path_of(self, name: str) -> Path:
        return self.directory / f"{name}.wav"

    async def add(
        self,
        name: str,
        data: bytes,
        *,
        description: str = "",
        wording: str = "",
        language: str = "sv",
        source: Literal["upload", "phone"] = "upload",
        filename: str | None = None,
        replace: bool = False,
    ) -> PromptInfo:
        """Validate, convert and store; raises PromptNameError or PromptFileError, and then
        nothing is stored."""
        validate_name(name)
        if language not in LANGUAGES:
            raise PromptNameError(f"language {language!r}: expected one of {', '.join(LANGUAGES)}")
        if source not in ("upload", "phone"):
            raise PromptNameError(f"source {source!r}: expected 'upload' or 'phone'")
        converted: ConvertedPrompt = await asyncio.to_thread(convert_prompt, data, filename)
        async with self._lock:
            existing = await self._row(name)
            if existing is not None and not replace:
                raise PromptNameError(f"a prompt named {name!r} already exists (replace it?)")
            return await self._write(
                name, converted, existing, description, wording, language, source
            )

    async def _write(
        self,
        name: str,
        converted: ConvertedPrompt,
        existing: PromptRow | None,
        description: str,
        wording: str,
        language: str,
        source: Literal["upload", "phone"],
    ) -> PromptInfo:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path_of(name)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
        backup: Path | None = None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(converted.wav)
                fh.flush()
                os.fsync(fh.fileno())
            if final.exists():
                # Keep the old audio until the row is committed, so a failure restores it.
                backup = final.with_name(f".{name}.old")
                os.replace(final, backup)
            os.replace(tmp, final)
            now = datetime.now(UTC)
            async with self.sessions.begin() as session:
                if existing is not None:
                    await session.execute(delete(PromptRow).where(PromptRow.name == name))
                session.add(
                    PromptRow(
                        name=name,
                        description=description,
                        wording=wording,
                        language=language,
                        path=str(final),
                        duration=converted.duration,
                        created_at=now,
                        source=source,
                    )
                )
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            if backup is not None:
                os.replace(backup, final)
            else:
                final.unlink(missing_ok=True)
            raise
        if backup is not None:
            backup.unlink(missing_ok=True)
        return PromptInfo(
            name,
            description,
            wording,
            language,
            source,
            converted.duration,
            now,
            final,
        )

    async def _row(self, name: str) -> PromptRow | None:
        async with self.sessions() as session:
            return (
                await session.execute(select(PromptRow).where(PromptRow.name == name))
            ).scalar_one_or_none()

    @staticmethod
    def _info(row: PromptRow) -> PromptInfo:
        return PromptInfo(
            row.name,
            row.description,
            row.wording,
            row.language,
            cast(PromptSource, row.source),  # the column holds only these values
            row.duration,
            as_utc(row.created_at),
            Path(row.path),
        )

    @staticmethod
    def _standard_info(name: str) -> PromptInfo:
        p = _STANDARD[name]
        wording = " / ".join(f"{lang}: {text}" for lang, text in p.wording.items())
        return PromptInfo(name, p.description, wording, "*", "standard")

    async def get(self, name: str) -> PromptInfo | None:
        """A stored prompt, else a standard one, else None."""
        row = await self._row(name)
        if row is not None:
            return self._info(row)
        return self._standard_info(name) if name in _STANDARD else None

    async def exists(self, name: str) -> bool:
        return name in _STANDARD or await self._row(name) is not None

    async def missing(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that are neither standard nor stored with their audio file
        (a row whose file is gone plays nothing either), once each, in order."""
        out: list[str] = []
        for name in dict.fromkeys(names):
            info = await self.get(name)
            if info is None or (info.path is not None and not info.path.is_file()):
                out.append(name)
        return out

    async def list(self, *, include_standard: bool = True) -> list[PromptInfo]:
        """Stored prompts by name, then the standard ones in catalog order."""
        async with self.sessions() as session:
            rows = (await session.execute(select(PromptRow).order_by(PromptRow.name))).scalars()
            stored = [self._info(r) for r in rows]
        if not include_standard:
            return stored
        return stored + [self._standard_info(n) for n in _STANDARD]

    async def delete(self, name: str) -> bool:
        """Remove a stored prompt (standard prompts cannot be deleted); False if none."""
        if name in _STANDARD:
            raise PromptNameError(f"{name!r} is a standard prompt and cannot be deleted")
        async with self._lock:
            async with self.sessions.begin() as session:
                result = await session.execute(delete(PromptRow).where(PromptRow.name == name))
            if not result.rowcount:
                return False
            self.path_of(name).unlink(missing_ok=True)
            return True

    async def next_number(self) -> int:
        """The number for the next prompt recorded by phone (stored as ``rec-<number>``)."""
        async with self.sessions() as session:
            names = (
                await session.execute(
                    select(PromptRow.name).where(PromptRow.name.like(f"{PHONE_PREFIX}%"))
                )
            ).scalars()
            used = [int(n[len(PHONE_PREFIX) :]) for n in names if n[len(PHONE_PREFIX) :].isdigit()]
        return max([FIRST_PHONE_NUMBER - 1, *used]) + 1

    async def add_recording(self, data: bytes, *, language: str = "sv") -> tuple[int, PromptInfo]:
        """Store a phone recording under the next free number; returns (number, info)."""
        async with self._lock:
            number = await self.next_number()
        info = await self.add(
            f"{PHONE_PREFIX}{number}",
            data,
            description=f"Recorded by phone as number {number}",
            language=language,
            source="phone",
        )
        return number, info


class PromptActivations:
    """Persistence for queue slot activations and hot prompts (the live state is in
    FlowServicesImpl.slots and HotPrompts; this keeps it across restarts)."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions

    async def set_slot(self, queue: str, slot: str, prompt: str | None) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                delete(QueuePromptRow).where(
                    QueuePromptRow.queue == queue, QueuePromptRow.slot == slot
                )
            )
            if prompt is not None:
                session.add(
                    QueuePromptRow(queue=queue, slot=slot, prompt=prompt, changed_at=_now())
                )

    async def slots(self) -> dict[str, dict[str, str]]:
        async with self.sessions() as session:
            rows = (await session.execute(select(QueuePromptRow))).scalars()
            out: dict[str, dict[str, str]] = {}
            for r in rows:
                out.setdefault(r.queue, {})[r.slot] = r.prompt
            return out

    async def set_hot(self, prompt: str, queue: str, until: datetime | None) -> None:
        async with self.sessions.begin() as session:
            await session.merge(
                HotPromptRow(queue=queue, prompt=prompt, until=until, changed_at=_now())
            )

    async def remove_hot(self, prompt: str, queue: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                delete(HotPromptRow).where(
                    HotPromptRow.queue == queue, HotPromptRow.prompt == prompt
                )
            )

    async def hot(self) -> list[tuple[str, str, datetime | None]]:
        """(prompt, queue, until) of every stored hot prompt."""
        async with self.sessions() as session:
            rows = (await session.execute(select(HotPromptRow))).scalars()
            return [(r.prompt, r.queue, as_utc(r.until)) for r in rows]

    async def prompt_uses(self, name: str) -> list[str]:
        """Where ``name`` is activated, e.g. ["support/welcome", "hot prompt for *"]."""
        async with self.sessions() as session:
            slots = (
                await session.execute(select(QueuePromptRow).where(QueuePromptRow.prompt == name))
            ).scalars()
            uses = sorted(f"{r.queue}/{r.slot}" for r in slots)
            hot = (
                await session.execute(select(HotPromptRow).where(HotPromptRow.prompt == name))
            ).scalars()
            uses += sorted(f"hot prompt for {r.queue}" for r in hot)
        return uses


def _now() -> datetime:
    return datetime.now(UTC)


async def load_prompt_state(
    sessions: async_sessionmaker,
    services: FlowServicesImpl,
    hot: HotPrompts,
    known_queues: Iterable[str] | None = None,
) -> None:
    """Put the persisted slot activations and hot prompts into the live objects (at start).

    Rows for queues no longer in the configuration are skipped, not deleted: they come
    back if the queue does.
    """
    store = PromptActivations(sessions)
    queues = set(known_queues) if known_queues is not None else None
    for queue, slots in (await store.slots()).items():
        if queues is None or queue in queues:
            services.slots.setdefault(queue, {}).update(slots)
    for prompt, queue, until in await store.hot():
        if queues is None or queue == "*" or queue in queues:
            hot.activate(prompt, queue, until)
