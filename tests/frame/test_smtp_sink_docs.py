"""The SMTP sink command of docs/operations.md runs in the environment `make run` makes
(aiosmtpd is a runtime dependency, not only a test one), and prints a mail it receives."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
import tomllib
from email.message import EmailMessage
from pathlib import Path

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_sink_is_a_runtime_dependency_and_the_docs_name_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("aiosmtpd") for d in project["dependencies"])
    docs = (ROOT / "docs" / "operations.md").read_text()
    assert "`.venv/bin/python -m aiosmtpd -n -l 127.0.0.1:8025`" in docs


def test_the_sink_command_prints_a_voicemail_mail() -> None:
    port = free_port(both=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "vaxel@localhost", "support@localhost", "vm"
        msg.set_content("Ett nytt röstmeddelande till Support.")
        client.send_message(msg)
        client.quit()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "MESSAGE FOLLOWS" in out and "To: support@localhost" in out, out
