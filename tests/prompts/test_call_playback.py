"""A call's prompts at play time: one without audio (deleted since the start, file gone) is
skipped and logged; the caller hears the rest and the call goes on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from callcore import CallState, Target
from media.events import PlayResult
from media.prompts import Prompt, PromptError
from prompts.resolver import PromptResolver
from tests.prompts import audio_samples as samples
from vaxel.calls.session import InboundCall


class Leg:
    """Plays instantly; ``fail`` makes the next play raise as a vanished file does."""

    def __init__(self) -> None:
        self.played: list[list[str]] = []
        self.fail: PromptError | None = None
        self.closed = False

    async def play(self, prompts: Sequence[Prompt], *, interrupt_digits: str = "") -> PlayResult:
        if self.fail is not None:
            raise self.fail
        self.played.append([p.path.stem for p in prompts])
        return PlayResult("done", 0)


async def call_with(tmp_path: Path) -> tuple[InboundCall, Leg, list[tuple[str, dict]]]:
    custom = tmp_path / "prompts"
    custom.mkdir()
    (custom / "outage.wav").write_bytes(samples.wav())
    leg, logged = Leg(), []
    resolver = PromptResolver(custom)
    state = CallState(
        key="c1",
        request_id="r1",
        sip_call_id="c1",
        a_number="0701234567",
        b_number="100",
        language="sv",
        target=Target(queue="support"),
        started_at=0.0,
    )
    call = InboundCall(
        state,
        resolver,
        note=lambda kind, data: logged.append((kind, data)),
        leg=leg,  # type: ignore[arg-type]
    )
    return call, leg, logged


async def test_a_prompt_without_audio_is_skipped_and_the_rest_is_played(tmp_path: Path) -> None:
    call, leg, logged = await call_with(tmp_path)
    assert call.can_play("outage") and call.can_play("welcome")
    assert not call.can_play("deleted-menu")
    assert await call.play(["outage", "deleted-menu", "welcome"]) is None
    assert leg.played == [["outage", "welcome"]]
    ((kind, data),) = logged
    assert kind == "prompt_missing" and data["prompt"] == "deleted-menu"
    assert "deleted-menu" in str(data["error"])


async def test_nothing_to_play_is_not_an_error(tmp_path: Path) -> None:
    call, leg, logged = await call_with(tmp_path)
    assert await call.play(["deleted-menu"], barge_in=True) is None
    assert leg.played == [] and [k for k, _ in logged] == ["prompt_missing"]


async def test_a_file_gone_between_lookup_and_playback_is_logged_too(tmp_path: Path) -> None:
    call, leg, logged = await call_with(tmp_path)
    leg.fail = PromptError("prompt outage.wav: file not found or unreadable")
    assert await call.play(["outage", "welcome"]) is None
    assert logged == [
        (
            "prompt_missing",
            {
                "prompt": "outage, welcome",
                "error": "prompt outage.wav: file not found or unreadable",
            },
        )
    ]
