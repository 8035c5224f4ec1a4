"""Builds the call-handling stack from the configuration and owns its lifecycle."""

from __future__ import annotations

import asyncio
import logging
import resource
import secrets
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from acd import Acd, Calendar, CalendarConfig, CalendarSet
from answering import CompanyFlows
from callcore import events as E
from calllog import AGENT_CALL_ID, CallEvent
from config import VaxelConfig
from media import MediaEngine
from prompts import STANDARD_DIR, HotPrompts, PromptResolver
from sip import (
    AuthLockout,
    DigestAuthenticator,
    GuardPolicy,
    Lock,
    RateLimit,
    SipEndpoint,
    SourceGuard,
    TcpPolicy,
    TlsSettings,
)
from vaxel.live_state import LiveState, PersistingRegistrar
from vaxel.logs import log_event
from vaxel.services.client_presence import ClientPresence
from vaxel.services.schedules import ScheduleService
from vaxel.sms import sms_gateway
from vaxel.startup import StartupError, bind_error
from vaxel.storage.callbacks import CallbackStore
from vaxel.storage.database import sessionmaker
from vaxel.storage.prompt_store import PromptActivations, PromptStore, load_prompt_state
from vaxel.tls import TlsFileError, tls_contexts
from vaxel.voicemail import VoicemailService

from .acd_runner import AcdRunner
from .browser_phone import BrowserPhones
from .controller import CallController
from .directory import Directory
from .flow_services import FlowServicesImpl
from .phone_services import PhoneServices
from .schedule_runner import ScheduleRunner
from .trunk import TrunkRegistration

if TYPE_CHECKING:
    from config import AgentConfig, VaxelConfig
    from vaxel.host import Host

log = logging.getLogger("vaxel.calls")


# What Vaxel answers in a dialog; REFER: agents' phones transfer calls (docs/transfers.md).
SIP_METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "NOTIFY", "REFER")


class CallStack:
    def __init__(self, server: Host) -> None:
        config = server.config
        self.directory = Directory(config)
        # Agents' pages as phones (WebRTC, docs/web.md); ICE on the media address.
        self.browsers = BrowserPhones(config.rtp.host)
        self.media = MediaEngine(
            host=config.rtp.host,
            port_min=config.rtp.port_min,
            port_max=config.rtp.port_max,
            prompt_dir=STANDARD_DIR,
            no_rtp_timeout=config.rtp.no_rtp_timeout,
        )
        # Nonces are stateless HMACs: a per-start secret invalidates old ones on restart.
        authenticator = DigestAuthenticator(
            config.sip.realm, secrets.token_bytes(32), algorithms=config.sip.digest_algorithms
        )
        sec = config.security
        self.guard = SourceGuard(_guard_policy(config))
        self.registrar = PersistingRegistrar(
            authenticator,
            self.directory.sip_password,
            domain=config.sip.domain,
            aliases=None,  # users are identified by the user part, whatever host they use
            lockout=AuthLockout(
                user_failures=sec.auth.user_failures,
                source_failures=sec.auth.source_failures,
                window=sec.auth.window,
                lock_seconds=sec.auth.lock_seconds,
                source_lock_seconds=sec.auth.source_lock_seconds,
                max_lock_seconds=sec.auth.max_lock_seconds,
                exempt=self.guard.is_trusted,
            )
            if sec.enabled
            else None,
            on_lock=self._on_auth_lock,
        )
        self.acd = Acd(self.directory.queues, self.directory.groups, self.directory.agents)
        self.runner = AcdRunner(self.acd, publish=server.events.publish)
        self.hot_prompts = HotPrompts()
        # Registrations and agent logins survive a restart (vaxel/live_state.py).
        self.live_state = LiveState(sessionmaker(server.engine), self.registrar, self.acd)

        def agents() -> Mapping[str, AgentConfig]:  # the current ones (changed at run time)
            return server.config.agents

        # Agents logged in from the agent client, logged out once it is gone a while.
        self.client_presence = ClientPresence(self, config.web.client_grace_seconds)
        self.live_state.client_bound = self.client_presence.bound
        self.schedule_runner = ScheduleRunner(
            self.runner,
            remote_number=lambda a: agents()[a].remote_number if a in agents() else None,
        )
        self.schedules = ScheduleService(
            sessionmaker(server.engine),
            server.audit,
            zone=config.server.time_zone,
            agent_number=lambda a: agents()[a].remote_number,  # KeyError: unknown agent
            changed=self.schedule_runner.update,
        )
        self.registrar.on_change = self.live_state.bindings_changed
        self.runner.agents_changed = self.live_state.agents_changed
        self.calendars = _calendars(config)
        self.prompts = PromptResolver(server.data_dir / "prompts")
        self.flow_services = FlowServicesImpl(self.calendars, self.hot_prompts)
        # Prompt recording and voicemail store through the same database as the API.
        sessions = sessionmaker(server.engine)
        self.prompt_store = PromptStore(sessions, server.data_dir / "prompts")
        self.activations = PromptActivations(sessions)
        self._sessions = sessions
        self.voicemail = VoicemailService(
            sessions,
            server.data_dir / "voicemail",
            config.smtp,
            mailbox_names=_mailbox_names(config),
            retry_delays=tuple(config.voicemail.mail_retry_delays),
        )
        self._set_mail_locales(config)
        # The endpoint's events go to the controller built just below.
        self.endpoint = SipEndpoint(
            self._on_sip_event,
            guard=self.guard,
            tcp=TcpPolicy(
                max_connections=_fd_bounded(sec.tcp.max_connections),
                max_per_source=sec.tcp.max_connections_per_source,
                idle_timeout=sec.tcp.idle_timeout,
                read_timeout=sec.tcp.read_timeout,
            ),
            tls=_tls_settings(server),
            user_agent="Vaxel",
            allow=SIP_METHODS,
        )
        self.controller = CallController(
            directory=self.directory,
            sip=self.endpoint,
            media=self.media,
            calllog=server.calllog,
            registrar=self.registrar,
            runner=self.runner,
            prompts=self.prompts,
            services=self.flow_services,
            phone_services=PhoneServices(
                self.directory,
                self.prompt_store,
                self.voicemail,
                self.flow_services,
                server.data_dir / "tmp",
            ),
            callbacks=CallbackStore(sessions),
            sms=sms_gateway(config.sms),
            next_open=self._next_open,
            advertised_host=config.sip.advertised_host or config.sip.host,
            publish=server.events.publish,
            browsers=self.browsers,
        )
        self.trunk_registrations = [
            TrunkRegistration(name, trunk, self.endpoint, self.controller.dialer.contact)
            for name, trunk in config.trunks.items()
            if trunk.register_
        ]
        self.answering = getattr(server, "answering", None)
        self._answer_in_company_names(config)
        self._server = server
        # (key path, prompt) the configuration names but the store lacks, found at start.
        self.unstored_prompts: list[tuple[str, str]] = []

    # --- administration at run time (vaxel/services/administration.py)

    def reconfigure(self, config: VaxelConfig) -> None:
        """Apply a changed configuration to the running stack. Live calls keep what they
        have (an offer ringing keeps its deadline); the next call and the next offer see the
        change. Raises ``AcdConfigError`` if a removed queue or agent is still in use."""
        self.directory.reload(config)
        self.acd.reconfigure(self.directory.queues, self.directory.groups, self.directory.agents)
        fresh = _calendars(config)
        self.calendars.base, self.calendars.own = fresh.base, fresh.own
        self.controller.reconfigured(config)
        self._wrap_company_flows(config)  # the fresh plan greets in the companies' names too
        if self.answering is not None:  # its checks see the new numbers and calendars
            self.answering.replan(_queue_numbers(config), set(config.calendars))
        self.voicemail.mailbox_names = _mailbox_names(config)
        self._set_mail_locales(config)

    def _set_mail_locales(self, config: VaxelConfig) -> None:
        """Voicemail mails in the mailbox's language, times in its calendar's zone."""
        lang = config.server.language
        base_zone = self.calendars.base.config.timezone
        self.voicemail.default_locale = (lang, base_zone)
        self.voicemail.mailbox_locales = {
            (qid, None): (q.language or lang, self.calendars.for_queue(qid).config.timezone)
            for qid, q in config.queues.items()
        }

    def in_use(self, kind: str, key: str) -> list[str]:
        """What deleting this entity would break now (refused with 409 naming them)."""
        if kind == "queues":
            return self.acd.in_use(queue_id=key)
        if kind == "agents":
            return self.acd.in_use(agent_id=key)
        if kind == "answer_groups":
            return [f"agent {a.id} (logged in to it)" for a in self.acd.agents() if key in a.groups]
        return []

    def _answer_in_company_names(self, config: VaxelConfig) -> None:
        """Calls to a company's B-number hear its greeting (or night message) before the
        control queue; a message taken on a call goes to that call's log."""
        answering = self.answering
        if answering is None:
            return
        self._wrap_company_flows(config)
        answering.note = self._note_call_step
        publish = self.runner.publish

        def publish_with_company(event: dict) -> None:
            # The ACD's call events (offered, answered ...) name the call's company, so an
            # agent's screen knows whose name to answer in before picking up.
            if event.get("type") == "call_event" and event.get("call_id"):
                company = self.company_of_call(event["call_id"])
                if company is not None:
                    event = {**event, "company": {"id": company["id"], "name": company["name"]}}
            publish(event)

        self.runner.publish = publish_with_company

    def _wrap_company_flows(self, config: VaxelConfig) -> None:
        """The plan's flows, with the companies' numbers greeting in their names. Done again
        on every change at run time: ``reconfigured`` builds a fresh plan."""
        answering = self.answering
        if answering is None:
            return
        calendars = {cid: Calendar(c, name=cid) for cid, c in config.calendars.items()}
        self.controller.flows = CompanyFlows(
            self.controller.flows, lambda: answering.book, calendars
        )

    def _note_call_step(self, call_id: str | None, kind: str, data: dict) -> None:
        """A step taken outside the call (through the API) for the call log: through the call
        core while the call lives, else as an event of its own that names the call."""
        if call_id is not None and call_id in self.controller.core.calls:
            self.controller.feed(E.Note(call_id, kind, data))
            return
        event = CallEvent(AGENT_CALL_ID, kind, at=datetime.now(UTC), data={"call_id": call_id,
                                                                          **data})  # fmt: skip
        self._server.calllog.submit(event)

    def company_of_call(self, call_id: str | None) -> dict | None:
        """The company the live call ``call_id`` is for (by its B-number), with its staff."""
        call = self.controller.core.calls.get(call_id or "")
        if call is None or self.answering is None:
            return None
        return self.answering.for_number(call.b_number)

    def _on_auth_lock(self, lock: Lock) -> None:
        """One line per lock (docs/security.md); a locked source is banned as well."""
        log_event(
            log,
            "sip.auth_locked",
            level=logging.WARNING,
            kind=lock.kind,
            key=lock.key,
            seconds=round(lock.seconds),
            failures=lock.failures,
            step=lock.step,
        )
        if lock.kind == "source":
            self.guard.request_ban(lock.key, f"{lock.failures} failed authentications")
            self.endpoint.transmit()  # applies the ban and logs it now

    # --- security: what the API shows and removes (the guard keeps it)

    def security_bans(self) -> list[dict[str, object]]:
        """Bans in force, with wall-clock times, earliest end first."""
        now = self.endpoint.now()
        wall = time.time()
        out: list[dict[str, object]] = [
            {
                "address": ban.address,
                "reason": ban.reason,
                "since": wall - (now - ban.since),
                "until": wall + (ban.until - now),
                "remaining_seconds": round(ban.until - now, 1),
                "count": ban.count,
            }
            for ban in self.guard.bans(now)
        ]
        self.endpoint.transmit()  # logs any unban that became due
        return out

    def pressure(self) -> dict[str, dict[str, int]]:
        """Counters of resource pressure since the start (/api/health, the console)."""
        ports = self.media.ports
        endpoint = self.endpoint
        return {
            "rtp_ports": {
                "pairs": ports.pairs,
                "in_use": len(ports.in_use),
                "allocation_failures": ports.failures,
            },
            "sip_connections": {
                "open": len(endpoint._accepted),
                "refused": endpoint.refused_connections,
                "tls_handshake_failures": endpoint.tls_handshake_failures,
            },
        }

    def security_locks(self) -> list[dict[str, object]]:
        """Authentication lockouts in force (users and sources)."""
        lockout = self.registrar.lockout
        if lockout is None:
            return []
        wall = time.time()
        return [
            {
                "kind": lock.kind,
                "key": lock.key,
                "until": lock.until,
                "remaining_seconds": round(lock.until - wall, 1),
                "failures": lock.failures,
                "step": lock.step,
            }
            for lock in lockout.locks(wall)
        ]

    def remove_ban(self, address: str) -> bool:
        """Lift the ban and the authentication lockout of an address; False if neither."""
        lifted = self.guard.unban(address, self.endpoint.now())
        lockout = self.registrar.lockout
        if lockout is not None and lockout.unlock("source", address):
            lifted = True
        self.endpoint.transmit()  # logs the unban line
        return lifted

    async def _trust_trunks(self) -> None:
        """The trunks' hosts are exempt from the limits (their names resolved once, here)."""
        config = self._server.config
        if not config.security.trust_trunks:
            return
        loop = asyncio.get_running_loop()
        for name, trunk in config.trunks.items():
            try:
                infos = await loop.getaddrinfo(trunk.host, trunk.port, type=socket.SOCK_DGRAM)
            except OSError as exc:
                log_event(
                    log,
                    "security.trunk_unresolved",
                    level=logging.WARNING,
                    trunk=name,
                    host=trunk.host,
                    error=str(exc),
                )
                continue
            for info in infos:
                self.guard.trust(str(info[4][0]))

    def _next_open(self, queue: str, now: float) -> float | None:
        """When ``queue`` is open (now) or opens next, by its calendar; None: never."""
        calendar = self.calendars.for_queue(queue)
        if calendar.is_open(now):
            return now
        change = calendar.next_change(now)
        return change.timestamp() if change is not None else None

    async def _on_sip_event(self, ev: object) -> None:
        for reg in self.trunk_registrations:
            if reg.on_event(ev):
                return
        await self.controller.on_event(ev)

    async def start(self) -> None:
        config = self._server.config
        await self.media.start()
        self.runner.start()
        await self.voicemail.start()
        # Slot activations and hot prompts survive restarts: in force before the first call.
        await load_prompt_state(
            self._sessions,
            self.flow_services,
            self.hot_prompts,
            known_queues=config.queues.keys(),
        )
        await self._check_prompts()
        await self._trust_trunks()
        # Registrations and logins from before a restart (or a crash), before SIP is up.
        self.live_state.start()
        await self.live_state.restore(self.runner.apply_safely)
        # A client's login restored: its page has the grace period to reconnect.
        for agent in self.live_state.restored_clients:
            self.client_presence.bind(agent)
        # Scheduled logins after the restored ones: a start missed while down applies now.
        await self.schedules.load()
        self.schedule_runner.start()
        # Pending callbacks, in their places, once the agents are back.
        restored = await self.controller.restore_callbacks()
        if restored:
            log_event(log, "callbacks.restored", count=restored)
        try:
            await self.endpoint.start(config.sip.host, config.sip.port)
        except OSError as exc:
            if self.endpoint.address[1]:  # UDP and TCP are up: it is the TLS port
                tls = config.sip.tls
                raise bind_error("sip.tls.port", config.sip.host, tls.port, exc) from None
            raise bind_error("sip.port", config.sip.host, config.sip.port, exc) from None
        for reg in self.trunk_registrations:
            reg.start()

    async def _check_prompts(self) -> None:
        """Warn about prompts the configuration names that are not stored. They do not stop
        the start: uploading them takes the running server's API (docs/ivr.md), and until
        then a call skips them instead of waiting in silence."""
        uses = self._server.config.prompt_uses()
        missing = set(await self.prompt_store.missing(name for _, name in uses))
        self.unstored_prompts = [(key, name) for key, name in uses if name in missing]
        for key, name in self.unstored_prompts:
            log_event(
                log,
                "config.prompt_not_stored",
                level=logging.WARNING,
                key=key,
                prompt=name,
                fix="upload it (POST /api/prompts); calls skip it until then",
            )

    async def shutdown(self) -> None:
        """Stop taking calls and end the live ones (BYE) while SIP is still up."""
        await self.controller.shutdown()

    async def close(self) -> None:
        for reg in self.trunk_registrations:
            await reg.close()
        await self.endpoint.close()
        self.schedule_runner.close()
        self.client_presence.close()
        await self.live_state.close()
        await self.voicemail.close()
        await self.runner.close()
        await self.browsers.close()
        await self.media.close()


def _calendars(config: VaxelConfig) -> CalendarSet:
    base_cfg = config.calendars.get("base") or CalendarConfig()
    own = {
        qid: Calendar(config.calendars[q.calendar], name=q.calendar)
        for qid, q in config.queues.items()
        if q.calendar is not None
    }
    return CalendarSet(Calendar(base_cfg, name="base"), own)


def _mailbox_names(config: VaxelConfig) -> dict[tuple[str | None, str | None], str]:
    return {(q, None): c.name or q for q, c in config.queues.items()} | {
        (None, a): c.name for a, c in config.agents.items()
    }


def _guard_policy(config: VaxelConfig) -> GuardPolicy:
    sec = config.security
    rate = sec.rate
    return GuardPolicy(
        enabled=sec.enabled,
        invite=RateLimit(rate.invite.rate, rate.invite.burst),
        register=RateLimit(rate.register_.rate, rate.register_.burst),
        options=RateLimit(rate.options.rate, rate.options.burst),
        other=RateLimit(rate.other.rate, rate.other.burst),
        max_early_dialogs=sec.max_early_dialogs,
        ban_after=sec.ban_after,
        strike_window=sec.strike_window,
        ban_seconds=sec.ban_seconds,
        ban_max_seconds=sec.ban_max_seconds,
        trusted=tuple(sec.trusted),
    )


def _tls_settings(server: Host) -> TlsSettings | None:
    """SIP over TLS from [sip.tls] (files relative to the working directory), or None."""
    tls = server.config.sip.tls
    if not tls.enabled:
        return None
    try:
        contexts = tls_contexts(tls, server.base_dir)
    except TlsFileError as exc:
        raise StartupError(str(exc)) from None
    return TlsSettings(
        contexts.server, contexts.client, tls.port, handshake_timeout=tls.handshake_timeout
    )


def _fd_bounded(configured: int) -> int:
    """TCP connections may use at most half the process's file descriptors: the rest
    stay for RTP ports, the database and the HTTP API (docs/security.md)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, soft // 2))


async def build_call_stack(server: Host) -> CallStack:
    stack = CallStack(server)
    await stack.start()
    return stack


__all__ = ["CallStack", "build_call_stack"]


def _queue_numbers(config: VaxelConfig) -> dict[str, str | None]:
    """The number plan as the answering service checks companies against it."""
    return {n: t.queue for n, t in config.numbers.items()}
