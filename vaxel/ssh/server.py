"""The SSH console's server: asyncssh, password or public-key login, one Console a session.

Passwords are checked by ``UserService.authenticate`` (the API's users, the same lockout;
refusals audited with ``via="ssh"``); keys are the users' stored ones (seeded from
``[users.NAME] ssh_keys``, changed with ``PATCH /api/users/NAME`` or the console's
``user NAME key ...``). Only admins and managers get a console: anyone else is told so
and disconnected.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import asyncssh

from access import Role
from vaxel.logs import log_event
from vaxel.services import Actor, ServiceError
from vaxel.startup import StartupError, bind_error

from .commands import Console, ConsoleError

if TYPE_CHECKING:
    from access import Principal
    from vaxel.host import ServerView

log = logging.getLogger("vaxel.ssh")

CONSOLE_ROLES = (Role.ADMIN, Role.MANAGER)
_PRINCIPAL = "vaxel_principal"
_SOURCE = "vaxel_source"


def host_key(path: Path) -> asyncssh.SSHKey:
    """The server's key at ``path``; an ed25519 key is generated there if it is missing."""
    if path.exists():
        try:
            return asyncssh.read_private_key(str(path))
        except (asyncssh.KeyImportError, OSError) as exc:
            raise StartupError(f"ssh.host_key_path: cannot read {path}: {exc}") from None
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.export_private_key())
    path.with_name(path.name + ".pub").write_bytes(key.export_public_key())
    log_event(log, "ssh.host_key_generated", path=str(path))
    return key


def key_matches(lines: list[str], key: asyncssh.SSHKey) -> bool:
    """Whether ``key`` is one of the user's stored public key lines."""
    for line in lines:
        try:
            if asyncssh.import_public_key(line).public_data == key.public_data:
                return True
        except asyncssh.KeyImportError:
            continue  # checked when stored; a line asyncssh cannot read matches nothing
    return False


class _Connection(asyncssh.SSHServer):
    def __init__(
        self,
        host: ServerView,
        live: set[asyncssh.SSHServerConnection],
    ) -> None:
        self._host = host
        self._live = live
        self._conn: asyncssh.SSHServerConnection | None = None
        self._source: str | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._live.add(conn)
        peer = conn.get_extra_info("peername")
        self._source = str(peer[0]) if peer else None
        conn.set_extra_info(**{_SOURCE: self._source})

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._live.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True  # always ask: nobody gets in without a password or a key

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        actor = Actor(None, "ssh", self._source, claimed=username)
        try:
            principal = await self._host.users.authenticate(username, password, actor)
        except ServiceError:
            return False
        self._signed_in(principal)
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # Offered keys that are not the user's are routine (a client tries each of its
        # keys before the password): not audited; a locked account is.
        # Read at each sign-in: keys added or removed at run time apply at once.
        if not key_matches(await self._host.users.ssh_keys(username), key):
            return False
        actor = Actor(None, "ssh", self._source, claimed=username)
        try:
            principal = await self._host.users.key_login(username, actor)
        except ServiceError:
            return False
        self._signed_in(principal)
        return True

    def _signed_in(self, principal: Principal) -> None:
        assert self._conn is not None
        self._conn.set_extra_info(**{_PRINCIPAL: principal})


class SshConsole:
    """The running console server (``start`` binds, ``close`` stops accepting)."""

    def __init__(self, host: ServerView) -> None:
        self.host = host
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._live: set[asyncssh.SSHServerConnection] = set()

    def key_path(self) -> Path:
        configured = self.host.config.ssh.host_key_path
        if configured is None:
            return self.host.data_dir / "ssh_host_ed25519_key"
        path = Path(configured).expanduser()
        return path if path.is_absolute() else self.host.data_dir / path

    async def start(self) -> None:
        cfg = self.host.config.ssh
        key = host_key(self.key_path())
        try:
            self._acceptor = await asyncssh.create_server(
                lambda: _Connection(self.host, self._live),
                cfg.host,
                cfg.port,
                server_host_keys=[key],
                process_factory=self._session,
                reuse_address=True,
                line_editor=True,
                keepalive_interval=30,
            )
        except OSError as exc:
            raise bind_error("ssh.port", cfg.host, cfg.port, exc) from None
        log_event(log, "ssh.listening", host=cfg.host, port=cfg.port)

    async def close(self) -> None:
        """Stop accepting and end the open sessions (asyncssh leaves them open)."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for conn in list(self._live):
            conn.close()
            await conn.wait_closed()
        self._live.clear()

    async def _session(self, process: asyncssh.SSHServerProcess[Any]) -> None:
        try:
            await self._serve(process)
        except (asyncssh.Error, BrokenPipeError, ConnectionError):
            pass  # the client went away
        except Exception:
            log.exception("ssh console session failed")
            process.stderr.write("internal error (logged on the server)\n")
            process.exit(1)

    async def _serve(self, process: asyncssh.SSHServerProcess[Any]) -> None:
        principal: Principal | None = process.get_extra_info(_PRINCIPAL)
        source: str | None = process.get_extra_info(_SOURCE)
        if principal is None:  # pragma: no cover - asyncssh only opens sessions after auth
            process.exit(1)
            return
        actor = Actor(principal, "ssh", source)
        if principal.role not in CONSOLE_ROLES:
            await self.host.audit.record(
                actor,
                "login.refused",
                principal.name,
                after={"reason": "console: admins and managers only"},
            )
            process.stderr.write(
                f"{principal.role.value} {principal.name!r} may not use the console: only "
                "admins and managers may (agents: use the API or the web pages)\n"
            )
            process.exit(1)
            return
        console = Console(self.host, actor)
        log_event(log, "ssh.session", user=principal.name, source=source,
                  command=process.command)  # fmt: skip
        if process.command is not None:
            process.exit(await self._one(console, process, process.command))
            return
        await self._interactive(console, process)

    async def _one(
        self, console: Console, process: asyncssh.SSHServerProcess[Any], line: str
    ) -> int:
        try:
            out = await console.run(line)
        except ConsoleError as exc:
            process.stderr.write(f"{exc}\n")
            return 1
        if out:
            process.stdout.write(out + "\n")
        return 0

    async def _interactive(self, console: Console, process: asyncssh.SSHServerProcess[Any]) -> None:
        name = self.host.config.server.name
        user = console.actor.name
        await console.refresh()
        if process.get_terminal_type() is not None:
            # The line editor exists only with a terminal.
            try:
                # asyncssh wraps the channel in SSHLineEditorChannel (not in its types).
                cast(Any, process.channel).register_key("\t", console.complete)
            except AssertionError:  # pragma: no cover - no editor (no encoding)
                pass
        process.stdout.write(
            f"{name} console, signed in as {user}. Type help for the commands, Tab completes, "
            "exit ends.\n"
        )
        prompt = f"{user}@vaxel> "
        while True:
            process.stdout.write(prompt)
            try:
                line = await process.stdin.readline()
            except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                process.stdout.write("\n")
                continue
            if not line:  # Ctrl-D
                process.stdout.write("\n")
                break
            line = line.strip()
            if line in ("exit", "quit", "logout"):
                break
            await self._one(console, process, line)
            await console.refresh()
        process.exit(0)
