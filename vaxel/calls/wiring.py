"""Builds the call-handling stack from the configuration and owns its lifecycle."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from acd import Acd, Calendar, CalendarConfig, CalendarSet
from media import MediaEngine
from prompts import STANDARD_DIR, HotPrompts, PromptResolver
from sip import DigestAuthenticator, SipEndpoint
from vaxel.live_state import LiveState, PersistingRegistrar
from vaxel.logs import log_event
from vaxel.services.schedules import ScheduleService
from vaxel.startup import bind_error
from vaxel.storage.database import sessionmaker
from vaxel.storage.prompt_store import PromptActivations, PromptStore, load_prompt_state
from vaxel.voicemail import VoicemailService

from .acd_runner import AcdRunner
from .controller import CallController
from .directory import Directory
from .flow_services import FlowServicesImpl
from .phone_services import PhoneServices
from .schedule_runner import ScheduleRunner
from .trunk import TrunkRegistration

if TYPE_CHECKING:
    from vaxel.host import Host

log = logging.getLogger("vaxel.calls")


class CallStack:
    def __init__(self, server: Host) -> None:
        config = server.config
        self.directory = Directory(config)
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
        self.registrar = PersistingRegistrar(
            authenticator,
            self.directory.sip_password,
            domain=config.sip.domain,
            aliases=None,  # users are identified by the user part, whatever host they use
        )
        self.acd = Acd(self.directory.queues, self.directory.groups, self.directory.agents)
        self.runner = AcdRunner(self.acd, publish=server.events.publish)
        self.hot_prompts = HotPrompts()
        # Registrations and agent logins survive a restart (vaxel/live_state.py).
        self.live_state = LiveState(sessionmaker(server.engine), self.registrar, self.acd)
        agents = config.agents
        self.schedule_runner = ScheduleRunner(
            self.runner, remote_number=lambda a: agents[a].remote_number if a in agents else None
        )
        self.schedules = ScheduleService(
            sessionmaker(server.engine),
            server.audit,
            zone=config.server.time_zone,
            agent_number=lambda a: agents[a].remote_number,  # KeyError: unknown agent
            changed=self.schedule_runner.update,
        )
        self.registrar.on_change = self.live_state.bindings_changed
        self.runner.agents_changed = self.live_state.agents_changed
        base_cfg = config.calendars.get("base") or CalendarConfig()
        own = {
            qid: Calendar(config.calendars[q.calendar], name=q.calendar)
            for qid, q in config.queues.items()
            if q.calendar is not None
        }
        self.calendars = CalendarSet(Calendar(base_cfg, name="base"), own)
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
            mailbox_names={(q, None): c.name or q for q, c in config.queues.items()}
            | {(None, a): c.name for a, c in config.agents.items()},
            retry_delays=tuple(config.voicemail.mail_retry_delays),
        )
        # The endpoint's events go to the controller built just below.
        self.endpoint = SipEndpoint(self._on_sip_event, user_agent="Vaxel")
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
            advertised_host=config.sip.advertised_host or config.sip.host,
            publish=server.events.publish,
        )
        self.trunk_registrations = [
            TrunkRegistration(name, trunk, self.endpoint, self.controller.dialer.contact)
            for name, trunk in config.trunks.items()
            if trunk.register_
        ]
        self._server = server
        # (key path, prompt) the configuration names but the store lacks, found at start.
        self.unstored_prompts: list[tuple[str, str]] = []

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
        # Registrations and logins from before a restart (or a crash), before SIP is up.
        self.live_state.start()
        await self.live_state.restore(self.runner.apply_safely)
        # Scheduled logins after the restored ones: a start missed while down applies now.
        await self.schedules.load()
        self.schedule_runner.start()
        try:
            await self.endpoint.start(config.sip.host, config.sip.port)
        except OSError as exc:
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
        await self.live_state.close()
        await self.voicemail.close()
        await self.runner.close()
        await self.media.close()


async def build_call_stack(server: Host) -> CallStack:
    stack = CallStack(server)
    await stack.start()
    return stack


__all__ = ["CallStack", "build_call_stack"]
