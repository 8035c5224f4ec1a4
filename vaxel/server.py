"""The running server: wires storage, SIP, media, ACD and HTTP together and owns their lifecycle."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from acd import AcdConfigError
from config import ConfigError, VaxelConfig

from .calls.wiring import CallStack, build_call_stack
from .events import EventHub
from .http import create_app
from .logs import log_event
from .services import AuditLog, ReportCentre, ServiceError, UserService
from .services.administration import ConfigAdmin
from .services.answering import AnsweringService
from .ssh import SshConsole
from .startup import StartupError, bind_error
from .storage import CallLog, create_engine, migrate, sessionmaker
from .storage.config_store import ConfigStore
from .web import add_web_routes

log = logging.getLogger("vaxel.server")


def resolve_database_url(config: VaxelConfig, base_dir: Path) -> str:
    """Relative SQLite paths are taken relative to the working directory the server runs in."""
    url = make_url(config.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            url = url.set(database=str((base_dir / path).resolve()))
    return url.render_as_string(hide_password=False)


class VaxelServer:
    def __init__(self, config: VaxelConfig, *, base_dir: Path | None = None) -> None:
        self.config = config
        self.base_dir = base_dir or Path.cwd()
        self.data_dir = (self.base_dir / config.server.data_dir).resolve()
        self._started_monotonic = time.monotonic()
        self._engine: AsyncEngine | None = None
        self.calllog: CallLog
        self._runner: web.AppRunner | None = None
        self._closers: list = []
        self.http_url = f"http://{config.http.host}:{config.http.port}"
        self.events = EventHub()
        self.calls: CallStack | None = None
        self.ssh: SshConsole | None = None
        self.audit: AuditLog
        self.users: UserService
        self.admin: ConfigAdmin
        self.answering: AnsweringService
        self.reports: ReportCentre | None = None
        # The report centre's clock (subscription due times, live figures); tests move it.
        self.clock: Callable[[], float] = time.time

    @property
    def engine(self) -> AsyncEngine:
        """The database engine (only while the server runs)."""
        if self._engine is None:
            raise RuntimeError("the server is not running")
        return self._engine

    def uptime(self) -> float:
        return time.monotonic() - self._started_monotonic

    async def start(self) -> None:
        """Start everything or nothing: on a failure the parts already started are closed."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        db_url = resolve_database_url(self.config, self.base_dir)
        self._engine = create_engine(db_url)
        try:
            await migrate(self._engine)
        except Exception as exc:
            raise StartupError(f"database.url: cannot open or migrate the database: {exc}") from exc
        self.calllog = CallLog(self._engine)
        self.calllog.start()
        # Calls a crashed process left live get their end (and summary) before new ones.
        interrupted = await self.calllog.close_interrupted()
        sessions = sessionmaker(self._engine)
        self.audit = AuditLog(sessions)
        # The file seeds an empty database; from then on the database holds the agents,
        # queues, numbers ... (administered at run time, docs/operations.md).
        self.admin = ConfigAdmin(
            ConfigStore(sessions),
            self.audit,
            current=lambda: self.config,
            apply=self._apply_config,
            in_use=lambda kind, key: self.calls.in_use(kind, key) if self.calls else [],
            agent_users=lambda agent: self.users.owners_of(agent),
        )
        self.users = UserService(
            sessions, self.config.api, self.audit, known_agents=lambda: self.config.agents
        )
        # The file seeds an empty database; from then on the database holds the users.
        await self.users.seed(self.config.users)
        try:
            self.config = await self.admin.start(self.config)
        except ConfigError as exc:
            raise StartupError(str(exc)) from None
        cfg = self.config
        self.answering = AnsweringService(
            sessions,
            self.audit,
            plan={n: t.queue for n, t in cfg.numbers.items()},
            calendars=set(cfg.calendars),
            smtp=cfg.smtp,
            time_zone=cfg.server.time_zone,
        )
        self.answering.on_book = self._companies_stored
        await self.answering.seed(cfg.companies)  # the file seeds an empty database only
        self.reports = ReportCentre(
            self, lambda: self.calls.acd if self.calls is not None else None, self.clock
        )
        self._closers.append(self.reports.close)
        if interrupted:
            await self.reports.forget_days_of(interrupted)
        await self.reports.start_live()

        await self._start_calls()
        await self._start_http()
        await self.reports.start_scheduler()
        if self.config.ssh.enabled:
            await self._start_ssh()
        self._started_monotonic = time.monotonic()
        log_event(log, "server.started", http=self.http_url, database=make_url(db_url).drivername)

    def _companies_stored(self, book: object) -> None:
        """The database holds the companies once seeded: the running configuration carries
        those, so a number plan change through the API is checked against them (removing a
        number a company still answers on is refused, naming the company)."""
        companies = self.answering.company_configs()
        self.config = self.config.model_copy(update={"companies": companies})

    def _apply_config(self, config: VaxelConfig) -> None:
        """A change stored by the administration: the call stack first (it may refuse a
        removal still in use), then everything that reads ``self.config``."""
        if self.calls is not None:
            try:
                self.calls.reconfigure(config)
            except AcdConfigError as exc:
                raise ServiceError("conflict", str(exc)) from None
        self.config = config
        if self.reports is not None:  # reports and the wallboard: queues, agents, levels
            self.reports.service.config = config
            self.reports.live.set_queues(
                {qid: q.service_level_seconds for qid, q in config.queues.items()}
            )

    async def _start_calls(self) -> None:
        """Media engine, ACD, registrar, call controller and the SIP endpoint."""
        self.calls = await build_call_stack(self)
        self._closers.append(self.calls.close)

    async def _start_http(self) -> None:
        app = create_app(self)
        add_web_routes(
            app, self.config
        )  # the pages: the API's app does not know the web front door
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.http.host, self.config.http.port)
        try:
            await site.start()
        except OSError as exc:
            raise bind_error(
                "http.port", self.config.http.host, self.config.http.port, exc
            ) from None

    async def _start_ssh(self) -> None:
        """The SSH console for admins and managers (its host key is made on first start)."""
        self.ssh = SshConsole(self)
        await self.ssh.start()

    async def stop(self) -> None:
        """Stop accepting, end live calls, flush the call log, close the database."""
        log_event(log, "server.stopping")
        if self.ssh is not None:  # first: no console command runs into a stopping stack
            await self.ssh.close()
            self.ssh = None
        if self.calls is not None:
            await self.calls.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("error while stopping")
        self._closers.clear()
        if getattr(self, "calllog", None) is not None:
            await self.calllog.close()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        log_event(log, "server.stopped")


async def run_until_signalled(
    server: VaxelServer, ready_message: str | Callable[[], str] | None = None
) -> None:
    """Serve until SIGINT/SIGTERM; a second signal forces exit without the clean shutdown.
    ``ready_message`` is printed once started (a callable: made then, from what runs)."""
    import os
    import signal
    import sys

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals_seen = 0

    def on_signal(signum: int) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen == 1:
            log_event(log, "server.signal", signal=signal.Signals(signum).name)
            stop.set()
        else:
            sys.stderr.write("second signal: forcing exit\n")
            os._exit(130)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    await server.start()
    if ready_message:
        text = ready_message() if callable(ready_message) else ready_message
        print(text, flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
