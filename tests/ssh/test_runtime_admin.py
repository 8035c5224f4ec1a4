"""The console administers the running centre: configuration edits, and SSH keys added and
removed at run time (the next sign-in sees them), with the real OpenSSH client."""

from __future__ import annotations

import pytest

from .conftest import ADMIN_PASSWORD, Console

pytestmark = pytest.mark.interop


async def test_a_key_added_through_the_console_signs_in_at_once(console: Console) -> None:
    public = console.key.with_suffix(".pub").read_text().strip()
    refused = await console.run("manager", "agents", key=console.key)
    assert refused.rc != 0, refused  # not the manager's key (yet)
    added = await console.run("admin", f"user manager key add {public}", password=ADMIN_PASSWORD)
    assert added.rc == 0 and "user manager: 1 key(s)" in added.out, added
    signed_in = await console.run("manager", "agents", key=console.key)
    assert signed_in.rc == 0 and "1001" in signed_in.out, signed_in
    listed = await console.run("admin", "user manager keys", password=ADMIN_PASSWORD)
    assert public.split()[1] in listed.out, listed
    removed = await console.run("admin", "user manager key remove 1", password=ADMIN_PASSWORD)
    assert removed.rc == 0, removed
    again = await console.run("manager", "agents", key=console.key)
    assert again.rc != 0, again
    entries = [e for e in await console.server.audit.entries() if e.target == "manager"]
    assert entries[0].via == "ssh" and entries[0].action == "user.changed"


async def test_config_set_show_and_a_refusal_naming_the_field(console: Console) -> None:
    res = await console.run(
        "admin", "config set queues support ring_timeout 9", password=ADMIN_PASSWORD
    )
    assert res.rc == 0 and '"ring_timeout": 9.0' in res.out, res
    assert console.server.calls is not None
    assert console.server.calls.acd.queue_config("support").ring_timeout == 9.0
    res = await console.run("admin", "config show queues support", password=ADMIN_PASSWORD)
    assert '"queues/support/' in res.out, res
    bad = await console.run(
        "admin", "config set queues support strategy fastest", password=ADMIN_PASSWORD
    )
    assert bad.rc != 0 and "queues.support.strategy" in bad.out + bad.err, bad
    # Managers see the board but do not change the configuration.
    denied = await console.run(
        "manager", "config set queues support ring_timeout 5", password="demo-manager-password"
    )
    assert denied.rc != 0 and "admins" in denied.out + denied.err, denied
    audit = [e for e in await console.server.audit.entries() if e.target == "queues/support"]
    assert audit[0].via == "ssh" and audit[0].after["ring_timeout"] == 9.0
