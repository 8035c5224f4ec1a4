"""A voicemail call uses the configured lengths, and the queue's greeting only while it
has audio; a mail is sent with the configured SMTP timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import parse_config
from config.schema import SmtpConfig
from ivr.voicemail import VoicemailResult, VoicemailSettings
from tests.support import demo_toml_with
from vaxel import mail
from vaxel.calls import phone_services
from vaxel.calls.directory import Directory
from vaxel.calls.phone_services import PhoneServices

VOICEMAIL = "[voicemail]\nmax_seconds = 90\nsilence_seconds = 4\nmin_seconds = 2\n"


class Call:
    """What the voicemail service reads of a call, and what it logs."""

    def __init__(self, missing: frozenset[str] = frozenset()) -> None:
        self.call_id, self.a_number, self.b_number = "c1", "0701234567", "192"
        self.queue, self.language, self.outcome = "support", "sv", ""
        self.missing = missing
        self.logged: list[tuple[str, dict]] = []

    def can_play(self, prompt: str) -> bool:
        return prompt not in self.missing

    async def log(self, kind: str, **data: object) -> None:
        self.logged.append((kind, data))


class Slots:
    def queue_prompt(self, queue: str, slot: str) -> str | None:
        return "support-vm" if slot == "voicemail-prompt" else None


class NewPath:
    def new_path(self) -> Path:
        return Path("/tmp/vm.wav")


@pytest.fixture
def dialogue(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The arguments each voicemail dialogue was started with."""
    started: list[dict[str, Any]] = []

    async def leave_voicemail(ch, box, path, greeting, settings):  # noqa: ANN001, ANN202
        started.append({"greeting": greeting, "settings": settings})
        return VoicemailResult("stored", 1, 3.0)

    monkeypatch.setattr(phone_services, "leave_voicemail", leave_voicemail)
    return started


def services(tmp_path: Path, extra: str = "") -> PhoneServices:
    config = parse_config(demo_toml_with(tmp_path, extra=extra), source="t.toml")
    return PhoneServices(Directory(config), None, NewPath(), Slots(), tmp_path)  # type: ignore[arg-type]


async def test_the_configured_lengths_reach_the_recording(
    tmp_path: Path, dialogue: list[dict[str, Any]]
) -> None:
    await services(tmp_path, VOICEMAIL).voicemail(Call())  # type: ignore[arg-type]
    assert dialogue[0]["settings"] == VoicemailSettings(90.0, 4.0, 2.0)
    await services(tmp_path).voicemail(Call())  # type: ignore[arg-type]
    assert dialogue[1]["settings"] == VoicemailSettings()  # no [voicemail]: as always


async def test_a_greeting_without_audio_gives_way_to_the_standard_one(
    tmp_path: Path, dialogue: list[dict[str, Any]]
) -> None:
    await services(tmp_path).voicemail(Call())  # type: ignore[arg-type]
    assert dialogue[0]["greeting"] == "support-vm"
    call = Call(missing=frozenset({"support-vm"}))
    await services(tmp_path).voicemail(call)  # type: ignore[arg-type]
    assert dialogue[1]["greeting"] == "voicemail-prompt"
    assert call.logged == [
        ("prompt_missing", {"prompt": "support-vm", "instead": "voicemail-prompt"})
    ]
    assert call.outcome == "voicemail"


async def test_a_mail_is_sent_with_the_configured_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    timeouts: list[float] = []

    async def send(msg, **kw):  # noqa: ANN001, ANN003, ANN202
        timeouts.append(kw["timeout"])

    monkeypatch.setattr(mail.aiosmtplib, "send", send)
    await mail.send(SmtpConfig(timeout=7.5), object())  # type: ignore[arg-type]
    await mail.send(SmtpConfig(), object())  # type: ignore[arg-type]
    assert timeouts == [7.5, 30.0]
