"""The SSH console with the real OpenSSH client: sign-in, commands, audit, completion."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from tests.ssh.conftest import ADMIN_PASSWORD, Console, Terminal


async def test_admin_logs_agent_1001_in_and_reads_the_queue_status(console: Console) -> None:
    login = await console.run("admin", "agent 1001 login", password=ADMIN_PASSWORD)
    assert login.rc == 0, login
    assert "agent 1001: ready on sip:1001 in support" in login.out, login
    assert "no phone is registered" in login.out  # a warning, not a refusal

    queues = await console.run("admin", "queues", password=ADMIN_PASSWORD)
    assert queues.rc == 0, queues
    header, *rows = queues.out.splitlines()
    assert header.split() == ["queue", "waiting", "longest", "ringing", "talking", "ewt", "agents"]
    support = next(r.split() for r in rows if r.startswith("support"))
    assert support[1] == "0" and support[-1] == "ready=1", queues

    assert console.server.calls is not None
    assert console.server.calls.acd.agent_view("1001").state.value == "ready"
    # The console and the API show the same trail.
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            console.server.http_url + "/api/audit?action=agent.login",
            headers={"Authorization": "Bearer demo-admin-token"},
        ) as resp,
    ):
        entries = (await resp.json())["entries"]
    assert entries[0]["actor"] == "admin" and entries[0]["via"] == "ssh", entries
    assert entries[0]["source"] == "127.0.0.1"
    assert entries[0]["target"] == "agent 1001"
    assert entries[0]["before"]["state"] == "offline"
    assert entries[0]["after"]["state"] == "ready"


async def test_pause_with_a_reason_then_ready_and_logout(console: Console) -> None:
    for command, shown in (
        ("agent 1002 login pstn 070-123 45 67", "ready on tel:0701234567"),
        ("agent 1002 pause lunch break", "(pause: lunch break)"),
        ("agent 1002 ready", "agent 1002: ready"),
        ("agent 1002 logout", "agent 1002: offline"),
    ):
        # shlex: the number with spaces must be quoted; without quotes it is refused.
        if "pstn" in command:
            bad = await console.run("admin", command, password=ADMIN_PASSWORD)
            assert bad.rc == 1 and "one number, got '070-123 45 67'" in bad.err, bad
            command = "agent 1002 login pstn '070-123 45 67'"
        result = await console.run("admin", command, password=ADMIN_PASSWORD)
        assert result.rc == 0 and shown in result.out, result
    actions = [e.action for e in await console.server.audit.entries(target="agent 1002")]
    assert actions == ["agent.logout", "agent.ready", "agent.pause", "agent.login"]


async def test_errors_name_what_is_wrong(console: Console) -> None:
    cases = {
        "agent 9999 ready": "agent 9999: no such agent",
        "agent 1001 dance": "agent 1001: unknown action 'dance'",
        "agent 1001 pause": "agent 1001 pause: give a reason",
        "agent 1001 login fax": "device 'fax': expected sip, pstn NUMBER or remote",
        "agnets": "agnets: unknown command (did you mean agents or agent?)",
        "calendar explain nowhere": "no calendar or queue 'nowhere'",
        "hotprompt on no-such-prompt": "unknown prompt 'no-such-prompt'",
        "audit lots": "audit [N]: N is how many entries to show",
    }
    for command, message in cases.items():
        result = await console.run("admin", command, password=ADMIN_PASSWORD)
        assert result.rc == 1 and message in result.err, (command, str(result))


async def test_wrong_password_is_refused_and_audited(console: Console) -> None:
    result = await console.run("admin", "agents", password="not-the-password")
    assert result.rc != 0 and "1001" not in result.out, result
    refused = await console.server.audit.entries(action="login.refused")
    assert refused, "no login.refused entry"
    assert refused[0].actor == "admin" and refused[0].via == "ssh"
    assert refused[0].source == "127.0.0.1"
    assert refused[0].after == {"reason": "wrong password"}
    # ... and the console shows it in its own audit view.
    trail = await console.run("manager", "audit 5", password="demo-manager-password")
    assert trail.rc == 0, trail
    assert any("login.refused" in line and "wrong password" in line
               for line in trail.out.splitlines()), trail  # fmt: skip


async def test_the_lockout_applies_to_the_console(console: Console) -> None:
    for _ in range(5):
        await console.run("manager", "help", password="wrong-password!")
    locked = await console.run("manager", "help", password="demo-manager-password")
    assert locked.rc != 0 and "commands" not in locked.out, locked
    reasons = [e.after["reason"] for e in await console.server.audit.entries(
        action="login.refused", actor="manager")]  # fmt: skip
    assert reasons[0] == "account locked", reasons


async def test_an_agent_user_is_refused_the_console(console: Console) -> None:
    result = await console.run("1001", "agents", password="demo-1001-password")
    assert result.rc == 1, result
    assert "agent '1001' may not use the console: only admins and managers may" in result.err
    assert result.out == ""
    entry = (await console.server.audit.entries(action="login.refused"))[0]
    assert (entry.actor, entry.via) == ("1001", "ssh")


async def test_public_key_login(console: Console) -> None:
    result = await console.run("keyadmin", "agents", key=console.key)
    assert result.rc == 0, result
    assert result.out.splitlines()[0].split()[:3] == ["id", "name", "state"]
    assert any(line.startswith("1001") for line in result.out.splitlines())
    # The same key is no key of "admin".
    other = await console.run("admin", "agents", key=console.key)
    assert other.rc == 255 and "Permission denied" in other.err, other


async def test_hot_prompt_on_and_off_is_audited(console: Console) -> None:
    on = await console.run("admin", "hotprompt on closed support until 23:59",
                           password=ADMIN_PASSWORD)  # fmt: skip
    assert on.rc == 0 and "hot prompt closed on for queue support until" in on.out, on
    assert console.server.calls is not None
    assert console.server.calls.hot_prompts.active_for("support", datetime.now(UTC)) == ["closed"]
    listed = await console.run("admin", "prompts", password=ADMIN_PASSWORD)
    assert "hot prompts:" in listed.out and "closed" in listed.out, listed
    off = await console.run("admin", "hotprompt off closed support", password=ADMIN_PASSWORD)
    assert off.rc == 0, off
    assert console.server.calls.hot_prompts.all() == []
    actions = [(e.action, e.via) for e in await console.server.audit.entries(limit=2)]
    assert actions == [("hotprompt.off", "ssh"), ("hotprompt.on", "ssh")]


async def test_read_only_views(console: Console) -> None:
    for command, shown in (
        ("calls", "no live calls"),
        ("schedules", "no scheduled logins"),
        ("calendar explain support", "status:      OPEN"),
        ("calendar explain base 2030-01-01T12:00", "at:          2030-01-01T12:00:00+01:00"),
        ("help", "agent ID login [sip|pstn NUMBER|remote]"),
    ):
        result = await console.run("manager", command, password="demo-manager-password")
        assert result.rc == 0 and shown in result.out, (command, str(result))


async def test_interactive_session_completes_words_with_tab(console: Console) -> None:
    term = await Terminal.open(console, "admin", ADMIN_PASSWORD)
    await term.expect(b"admin@vaxel> ")
    # "age" + Tab: "agent" (the common part of agent and agents), "s" Enter runs agents.
    term.type(b"age\t")
    await term.expect(b"agent")
    term.type(b"s\r")
    await term.expect(b"pause")  # the table header
    await term.expect(b"admin@vaxel> ")
    # Ids and actions complete too: "agent 1001 logi" + Tab = "agent 1001 login ".
    term.type(b"agent 1001 logi\t\r")
    await term.expect(b"agent 1001: ready on sip:1001")
    term.type(b"agent 1001 pa\tlunch\r")
    await term.expect(b"(pause: lunch)")
    term.type(b"exit\r")
    assert await term.close() == 0
    assert console.server.calls is not None
    assert console.server.calls.acd.agent_view("1001").pause_reason == "lunch"


async def test_the_host_key_is_generated_under_the_data_dir(console: Console) -> None:
    key = console.server.data_dir / "ssh_host_ed25519_key"
    assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    assert key.with_name(key.name + ".pub").read_text().startswith("ssh-ed25519 ")


async def test_closing_the_console_ends_open_sessions(console: Console) -> None:
    term = await Terminal.open(console, "admin", ADMIN_PASSWORD)
    await term.expect(b"admin@vaxel> ")
    assert console.server.ssh is not None
    await console.server.ssh.close()
    assert await term.close() != 0  # the client saw the connection close
