"""Whose mailbox a voicemail call leaves its message in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config import parse_config
from tests.support import demo_toml_with
from vaxel.calls.directory import Directory
from vaxel.calls.phone_services import PhoneServices
from vaxel.voicemail import Mailbox


@dataclass
class Call:
    b_number: str
    queue: str | None


def services(tmp_path: Path) -> PhoneServices:
    text = demo_toml_with(
        tmp_path,
        replace={
            '"191" = { service = "prompt-recording" }': (
                '"191" = { service = "prompt-recording" }\n'
                '"193" = { service = "voicemail", agent = "1001" }'
            )
        },
    )
    directory = Directory(parse_config(text, source="t.toml"))
    return PhoneServices(directory, None, None, None, tmp_path)  # type: ignore[arg-type]


def test_a_voicemail_number_for_an_agent_mails_the_agent(tmp_path: Path) -> None:
    box = services(tmp_path).mailbox_for(Call("193", None))  # type: ignore[arg-type]
    assert box == Mailbox("Agent One", "agent1001@localhost", agent="1001")


def test_a_voicemail_number_for_a_queue_mails_the_queue(tmp_path: Path) -> None:
    box = services(tmp_path).mailbox_for(Call("192", "support"))  # type: ignore[arg-type]
    assert box == Mailbox("Support", "support@localhost", queue="support")


def test_a_flow_s_voicemail_step_uses_the_call_s_current_queue(tmp_path: Path) -> None:
    # Reached from a menu on 100: the number is a queue's, the call is now in "sales".
    box = services(tmp_path).mailbox_for(Call("100", "sales"))  # type: ignore[arg-type]
    assert box == Mailbox("Sales", None, queue="sales")  # no address: kept, not mailed
