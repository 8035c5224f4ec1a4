"""The prompt store keeps file and row together: all or nothing."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import soundfile as sf
from sqlalchemy.ext.asyncio import async_sessionmaker

from prompts.convert import PromptFileError
from prompts.hot import HotPrompts
from tests.prompts import audio_samples as samples
from vaxel.calls.flow_services import FlowServicesImpl
from vaxel.storage import create_engine, migrate, sessionmaker
from vaxel.storage.prompt_store import (
    FIRST_PHONE_NUMBER,
    PromptActivations,
    PromptNameError,
    PromptStore,
    load_prompt_state,
)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await migrate(engine)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def store(sessions: async_sessionmaker, tmp_path: Path) -> PromptStore:
    return PromptStore(sessions, tmp_path / "prompts")


def files(store: PromptStore) -> list[str]:
    return sorted(p.name for p in store.directory.iterdir()) if store.directory.exists() else []


async def test_added_prompt_is_listed_with_its_converted_file(store: PromptStore) -> None:
    info = await store.add("lunch", samples.wav(1.0, 16000, 2), description="Lunch", language="en")
    assert info.source == "upload" and info.duration == pytest.approx(1.0, abs=0.01)
    assert sf.info(io.BytesIO(store.path_of("lunch").read_bytes())).samplerate == 8000
    listed = {p.name: p for p in await store.list()}
    assert listed["lunch"].language == "en" and listed["lunch"].description == "Lunch"
    assert listed["welcome"].source == "standard"
    assert files(store) == ["lunch.wav"]


async def test_refused_file_leaves_nothing_behind(store: PromptStore) -> None:
    with pytest.raises(PromptFileError):
        await store.add("broken", samples.PNG)
    assert await store.get("broken") is None
    assert files(store) == []


@pytest.mark.parametrize("name", ["", "Welcome", "a b", "x" * 33, "../etc", "-lead", "welcome"])
async def test_bad_or_reserved_names_are_refused(store: PromptStore, name: str) -> None:
    with pytest.raises(PromptNameError):
        await store.add(name, samples.wav())
    assert files(store) == []


async def test_existing_name_needs_replace(store: PromptStore) -> None:
    await store.add("offer", samples.wav(1.0))
    with pytest.raises(PromptNameError, match="already exists"):
        await store.add("offer", samples.wav(2.0))
    replaced = await store.add("offer", samples.wav(2.0), replace=True)
    assert replaced.duration == pytest.approx(2.0, abs=0.01)
    assert [p.name for p in await store.list(include_standard=False)] == ["offer"]
    assert files(store) == ["offer.wav"]


async def test_failed_database_write_removes_the_new_file_and_keeps_the_old(
    store: PromptStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.add("offer", samples.wav(1.0))
    old = store.path_of("offer").read_bytes()

    def broken_begin() -> None:
        raise RuntimeError("database is gone")

    monkeypatch.setattr(store.sessions, "begin", broken_begin)
    with pytest.raises(RuntimeError):
        await store.add("offer", samples.wav(2.0), replace=True)
    with pytest.raises(RuntimeError):
        await store.add("fresh", samples.wav(1.0))
    assert store.path_of("offer").read_bytes() == old
    assert files(store) == ["offer.wav"]


async def test_delete_removes_row_and_file_but_not_standard_prompts(store: PromptStore) -> None:
    await store.add("gone", samples.wav())
    assert await store.delete("gone") is True
    assert await store.get("gone") is None and files(store) == []
    assert await store.delete("gone") is False
    with pytest.raises(PromptNameError):
        await store.delete("welcome")


async def test_missing_names_neither_standard_nor_stored_with_audio(store: PromptStore) -> None:
    await store.add("lunch", samples.wav())
    await store.add("gone", samples.wav())
    store.path_of("gone").unlink()  # a row without its file plays nothing
    names = ["welcome", "lunch", "later", "gone", "later"]
    assert await store.missing(names) == ["later", "gone"]


async def test_phone_recordings_are_numbered_from_1001(store: PromptStore) -> None:
    assert await store.next_number() == FIRST_PHONE_NUMBER
    number, info = await store.add_recording(samples.wav(1.0, 8000, 1))
    assert (number, info.name, info.source) == (1001, "rec-1001", "phone")
    second, _ = await store.add_recording(samples.wav(1.0, 8000, 1))
    assert second == 1002
    await store.delete("rec-1001")
    assert await store.next_number() == 1003  # one above the highest number in use


async def test_persisted_activations_are_loaded_into_live_state(
    sessions: async_sessionmaker,
) -> None:
    act = PromptActivations(sessions)
    await act.set_slot("support", "welcome", "hello")
    await act.set_slot("gone", "welcome", "hello")
    past = datetime.now(UTC) - timedelta(hours=1)
    await act.set_hot("outage", "*", None)
    await act.set_hot("old", "support", past)
    services = FlowServicesImpl(calendars=None, hot=HotPrompts())  # type: ignore[arg-type]
    await load_prompt_state(sessions, services, services.hot, known_queues=["support"])
    assert services.queue_prompt("support", "welcome") == "hello"
    assert "gone" not in services.slots
    now = datetime.now(UTC)
    assert services.hot_prompts("support", now) == ["outage"]
    assert {h.prompt for h in services.hot.all()} == {"outage", "old"}
    assert await act.prompt_uses("hello") == ["gone/welcome", "support/welcome"]
