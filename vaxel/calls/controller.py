"""The call executor: carries out what the call core (``callcore``) and the ACD decide.

SIP events from the endpoint become call-core events; the actions the core returns are
performed here in order, synchronously where they can be (respond, bridge, hang up,
apply to the ACD, append to the call log). What has to wait (opening a media leg,
ringing an agent, a prompt dialogue) runs as a task whose result is fed back to the
core as an event. No call decision is taken in this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from acd import Acd, AcdError, Command
from answering import FlowRunner
from callcore import CUSTOMER, CallCore
from callcore import actions as A
from callcore import events as E
from calllog import CallEvent
from config import VaxelConfig
from ivr import FlowPlan, FlowState, book_callback, run_survey
from media import (
    CallQualityWatch,
    EndpointHints,
    MediaEngine,
    MediaError,
    MediaLeg,
    run_watch,
)
from prompts import PromptResolver
from sip import (
    SRTP_KEY_LENGTH,
    AckReceived,
    AuthRejection,
    ByeReceived,
    CallCancelled,
    DialogEstablished,
    DialogTerminated,
    HeaderError,
    IncomingRequest,
    InDialogRequest,
    LineBudget,
    NoCommonCodec,
    Registrar,
    ReInvite,
    RequestTimeout,
    ResponseReceived,
    SdpError,
    SessionDescription,
    TransportError,
    UserAgent,
    make_offer,
    negotiate,
    parse_address,
    parse_answer,
    parse_sdp,
    parse_uri,
)
from vaxel.logs import log_event
from vaxel.sms import SmsError, SmsGateway
from vaxel.storage import CallLog
from vaxel.storage.callbacks import CallbackStore

from .acd_runner import AcdRunner
from .agent_dialer import AgentDialer
from .browser_phone import BrowserPhones
from .directory import TEL_DEVICE, Directory
from .flow_services import FlowServicesImpl
from .media_sdp import apply_sdp, endpoint_hints
from .outbound import QUEUE_HEADER, Presence, direct_calendars, direct_closed, outbound_policy
from .phone_services import PhoneServices
from .session import AgentLeg, InboundCall
from .sip_port import SipPort
from .transfers import Transfers

log = logging.getLogger("vaxel.calls")

# Call events that mean the operator has something to fix: warnings in the log.
WARNING_EVENTS = frozenset({"prompt_missing"})
# What a phone's final response to our INVITE means for the ACD: a decline, not a failure.
DECLINES = frozenset({486, 600, 603})


def _user_of(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parse_uri(parse_address(value).uri).user
    except (HeaderError, ValueError):
        return None


def _rtp_counts(leg: MediaLeg) -> dict[str, int]:
    c = leg.stats
    return {"sent": c.packets_sent, "received": c.packets_received, "malformed": c.malformed}


class CallController:
    def __init__(
        self,
        *,
        directory: Directory,
        sip: SipPort,
        media: MediaEngine,
        calllog: CallLog,
        registrar: Registrar,
        runner: AcdRunner,
        prompts: PromptResolver,
        services: FlowServicesImpl,
        phone_services: PhoneServices,
        callbacks: CallbackStore,
        sms: SmsGateway,
        next_open: Callable[[str, float], float | None],
        advertised_host: str,
        publish: Callable[[dict[str, Any]], None] = lambda e: None,
        clock: Callable[[], float] = time.time,
        browsers: BrowserPhones | None = None,
    ) -> None:
        self.directory = directory
        self.config = directory.config
        self.sip = sip
        self.media = media
        self.calllog = calllog
        self.registrar = registrar
        self.runner = runner
        self.acd: Acd = runner.acd
        self.prompts = prompts
        self.services = services
        self.phone_services = phone_services
        self.callbacks = callbacks
        self.sms = sms
        # IVR steps per number, built once (the answering service wraps it: vaxel/calls/wiring.py)
        self.flows: FlowRunner = FlowPlan.from_config(self.config)
        self._port_lines = LineBudget(lines=5, interval=60.0)  # call.no_media_port lines
        self.host = advertised_host
        self.publish = publish
        self.clock = clock
        self.presence = Presence(runner.acd, registrar)
        self.core = CallCore(
            route=directory.target,
            queue_options=self._queue_options,
            ack_timeout=self.config.sip.ack_timeout,
            next_open=next_open,
            outbound=outbound_policy(self.config),  # calls outside the queues: docs/outbound.md
            presence=self.presence,
            calendar_open=direct_calendars(self.config),
            language=self.config.server.language,
            transfer_options=Transfers.options(self.config),
        )
        self.transfers = Transfers(self)  # REFER, hold re-INVITEs, consult calls
        self.core.transfer_target = self.transfers.resolver()
        self.calls: dict[str, InboundCall] = {}  # by the core's call key
        self._by_request: dict[str, str] = {}  # INVITE request id -> key
        self._by_dialog: dict[str, tuple[str, str | None]] = {}  # dialog -> (key, agent)
        self._offers: dict[str, Any] = {}  # request id -> the caller's parsed SDP offer
        self._hints: dict[str, EndpointHints] = {}  # request id -> the caller's endpoint
        self._tasks: set[asyncio.Task[Any]] = set()
        self._quality: dict[str, tuple[CallQualityWatch, asyncio.Task[None]]] = {}
        self._actions: deque[A.Action] = deque()
        self._performing = False
        self._timer: asyncio.TimerHandle | None = None
        self._sdp_version = 1
        self.dialer = AgentDialer(
            sip=sip,
            media=media,
            registrar=registrar,
            config=self.config,
            host=advertised_host,
            prompts=prompts,
            calls=self.calls,
            dialogs=self._by_dialog,
            feed=self.feed,
            spawn=self._spawn,
            session_version=self._session_version,
            classified=self._classified_by_keypad,
            browsers=browsers,
        )
        runner.sink = self.on_acd_commands

    # ------------------------------------------------------------------ plumbing

    def reconfigured(self, config: VaxelConfig) -> None:
        """A configuration changed at run time: new calls use it (a call in its IVR flow
        keeps the steps it started with)."""
        self.config = config
        self.flows = FlowPlan.from_config(config)

    @property
    def ua(self) -> UserAgent:
        return self.sip.ua

    def _loop_now(self) -> float:
        return asyncio.get_running_loop().time()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    def _respond(self, request_id: str, status: int, reason: str | None = None, **kw: Any) -> bool:
        ok = self.ua.respond(request_id, status, reason, now=self._loop_now(), **kw)
        self.sip.transmit()
        return ok

    def _session_version(self) -> int:
        self._sdp_version += 1
        return self._sdp_version

    def _queue_options(self, queue: str) -> Any:
        return self.directory.queue_options(queue, self.services.queue_prompt)

    # ------------------------------------------------------------------ driving the core

    def feed(self, ev: E.CallInput) -> None:
        """Hand one event to the call core and carry out what it returns."""
        self._perform(self.core.handle(ev, self.clock()))

    def on_acd_commands(self, commands: list[Command]) -> None:
        """The ACD's commands (from any front door or its timer) reach the calls here."""
        self._perform(self.core.on_acd(commands, self.clock()))

    def _perform(self, actions: list[A.Action]) -> None:
        # One FIFO for every action: an action that feeds the core or the ACD again
        # (a synchronous result) queues its follow-ups behind what is already due.
        self._actions.extend(actions)
        if self._performing:
            return
        self._performing = True
        try:
            while self._actions:
                action = self._actions.popleft()
                try:
                    self._do(action)
                except Exception:
                    log.exception("carrying out %s failed", type(action).__name__)
        finally:
            self._performing = False
        self._arm()

    def _arm(self) -> None:
        deadline = self.core.next_deadline()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            delay = max(0.0, deadline - self.clock())
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._perform(self.core.tick(self.clock()))

    def _do(self, action: A.Action) -> None:
        handler = getattr(self, f"_do_{type(action).__name__}")
        handler(action)

    # ------------------------------------------------------------------ SIP events

    async def on_event(self, ev: object) -> None:
        """Entry point for every event of the UA core."""
        try:
            self._dispatch(ev)
        except Exception:
            log.exception("error handling SIP event %r", type(ev).__name__)

    def _dispatch(self, ev: object) -> None:
        if isinstance(ev, IncomingRequest):
            method = ev.request.method
            if method == "INVITE":
                self._invite(ev)
            elif method == "REGISTER":
                self._register(ev)
            else:
                self._respond(
                    ev.request_id,
                    405,
                    "Method Not Allowed Outside A Dialog",
                    headers=[("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER")],
                )
        elif isinstance(ev, CallCancelled):
            key = self._by_request.get(ev.request_id)
            if key is not None:
                self.feed(E.CallerGone(key, "cancelled"))
            else:
                self.transfers.on_cancel(ev.request_id)  # a phone's consult call
        elif isinstance(ev, DialogEstablished):
            self._dialog_established(ev)
        elif isinstance(ev, AckReceived):
            self._ack(ev)
        elif isinstance(ev, ByeReceived | DialogTerminated):
            reason = "hangup" if isinstance(ev, ByeReceived) else ev.reason
            self._dialog_gone(ev.dialog_id, reason)
        elif isinstance(ev, ReInvite):
            self._reinvite(ev)
        elif isinstance(ev, InDialogRequest) and ev.request.method == "REFER":
            self.transfers.on_refer(ev)
        elif isinstance(ev, InDialogRequest):
            self._respond(ev.request_id, 200)
        elif isinstance(ev, ResponseReceived):
            owner = self.dialer.owner(ev.handle)
            if owner is not None:
                self.dialer.on_response(*owner, ev)
        elif isinstance(ev, RequestTimeout | TransportError):
            owner = self.dialer.owner(ev.handle)
            if owner is not None:
                self.dialer.failed(*owner, "no answer from the device (timeout)")

    def _invite(self, ev: IncomingRequest) -> None:
        req = ev.request
        try:
            b_number = parse_uri(req.uri).user or ""
        except (HeaderError, ValueError):
            b_number = ""
        a_number = _user_of(req.headers.get("From"))
        # Agents' own phones must prove who they are before they may place calls.
        authenticated: str | None = None
        if self.core.accepting and self.directory.is_agent(a_number):
            auth = self.registrar.authenticate_request(
                req, time.time(), proxy=True, source=ev.source
            )
            if isinstance(auth, AuthRejection):
                if auth.failure is not None and auth.status == 403:
                    log_event(
                        log,
                        "sip.auth_failed",
                        level=logging.WARNING,
                        user=a_number,
                        source=f"{ev.source[0]}:{ev.source[1]}",
                        reason=auth.failure.reason,
                    )
                self._respond(ev.request_id, auth.status, auth.reason, headers=auth.headers)
                return
            authenticated = auth.username
            if a_number is not None and self.transfers.consult_invite(ev, a_number, b_number):
                return  # dialled while on a call: a consult of that call
        sdp_error = None
        offer = None
        if req.body:
            try:
                offer = parse_sdp(req.body)
            except SdpError as exc:
                sdp_error = str(exc)
        target = self.directory.target(b_number)
        self._offers[ev.request_id] = offer
        self._hints[ev.request_id] = endpoint_hints(req.headers.get("User-Agent"), offer)
        if target is None and authenticated is not None:
            # An agent's phone (authenticated above) dialled out: docs/outbound.md. The call
            # is the credentials' agent's, so a From naming a colleague is refused.
            if authenticated != a_number:
                self._offers.pop(ev.request_id, None)
                self._hints.pop(ev.request_id, None)
                self._respond(ev.request_id, 403, "Forbidden: From does not match credentials")
                return
            self._place(ev, authenticated, b_number, sdp_error)
            return
        if target is None:
            log_event(log, "call.unknown_number", call_id=req.call_id, b_number=b_number)
        invite = E.Invite(
            request_id=ev.request_id,
            sip_call_id=req.call_id or f"vaxel-{secrets.token_hex(8)}",
            a_number=a_number,
            b_number=b_number,
            target=target,
            language=self.directory.language_for(b_number, target.queue if target else None),
            sdp_error=sdp_error,
        )
        actions = self.core.invite(invite, self.clock())
        if not any(isinstance(a, A.OpenCallerLeg) for a in actions):
            self._offers.pop(ev.request_id, None)
            self._hints.pop(ev.request_id, None)
        self._perform(actions)

    def _place(self, ev: IncomingRequest, agent: str, dialled: str, sdp_error: str | None) -> None:
        req = ev.request
        place = E.PlaceCall(
            request_id=ev.request_id,
            sip_call_id=req.call_id or f"vaxel-{secrets.token_hex(8)}",
            agent=agent,
            dialled=dialled,
            queue=(req.headers.get(QUEUE_HEADER) or "").strip() or None,
            sdp_error=sdp_error,
        )
        actions = self.core.place(place, self.clock())
        if not any(isinstance(a, A.OpenCallerLeg) for a in actions):
            self._offers.pop(ev.request_id, None)
            self._hints.pop(ev.request_id, None)
        self._perform(actions)

    def dial(self, agent: str, number: str, queue: str | None = None) -> tuple[str, Any]:
        """Click-to-call: (the new call's id, None), or (``""``, the core's refusal)."""
        call_id = f"dial-{secrets.token_hex(8)}"
        device = self.presence.dial_device(agent)
        refusal, actions = self.core.dial(
            E.Dial(call_id, agent, device, number, queue), self.clock()
        )
        self._perform(actions)
        return ("", refusal) if refusal is not None else (call_id, None)

    def _dialog_established(self, ev: DialogEstablished) -> None:
        if ev.role == "uas":
            if self.transfers.on_dialog(ev.handle, ev.dialog_id):
                return
            key = self._by_request.get(ev.handle)
            call = self.calls.get(key) if key else None
            if call is not None:
                call.dialog_id = ev.dialog_id
                self._by_dialog[ev.dialog_id] = (call.call_id, None)
            return
        owner = self.dialer.owner(ev.handle)
        if owner is not None:
            agent_leg = self._agent_leg(*owner)
            if agent_leg is not None:
                agent_leg.dialog_id = ev.dialog_id
                self._by_dialog[ev.dialog_id] = owner

    def _ack(self, ev: AckReceived) -> None:
        owner = self._by_dialog.get(ev.dialog_id)
        if owner is None or owner[1] is not None:
            return
        call = self.calls.get(owner[0])
        if call is None or call.acked:
            return
        call.acked = True
        error = None
        if call.late_offer is not None and call.leg is not None:
            # Delayed offer: we offered in the 200 OK; the answer is in the ACK.
            try:
                apply_sdp(call.leg, parse_answer(call.late_offer, parse_sdp(ev.body)))
            except SdpError as exc:
                error = f"bad SDP answer in ACK: {exc}"
        self.feed(E.CallerAcked(call.call_id, error))

    def _dialog_gone(self, dialog_id: str, reason: str) -> None:
        owner = self._by_dialog.pop(dialog_id, None)
        if owner is None:
            return
        if self.dialer.classify_gone(dialog_id):
            return
        key, agent = owner
        call = self.calls.get(key)
        if agent is None:
            if call is not None:
                call.dialog_id = None  # nothing to BYE any more
            self.feed(E.CallerGone(key, reason))
            return
        agent_leg = self._agent_leg(key, agent)
        if agent_leg is not None:
            agent_leg.dialog_id = None
        self.feed(E.AgentGone(key, agent, reason))

    def _reinvite(self, ev: ReInvite) -> None:
        """Hold/resume or a media change: follow the new address, answer with our SDP."""
        owner = self._by_dialog.get(ev.dialog_id)
        leg = None
        if owner is not None:
            call = self.calls.get(owner[0])
            if call is not None and owner[1] is None:
                leg = call.leg
            elif call is not None and owner[1] is not None:
                agent_leg = call.agents.get(owner[1])
                leg = agent_leg.leg if agent_leg is not None else None
        if leg is None or leg.closed:
            self._respond(ev.request_id, 488, "Not Acceptable Here")
            return
        try:
            answer = negotiate(
                parse_sdp(ev.request.body),
                local_address=self.media.host,
                local_port=leg.local_port,
                session_id=leg.local_port,
                session_version=self._session_version(),
                # The same key as before: a re-INVITE keeps the SRTP context running.
                srtp_key=leg.srtp.local_key if leg.srtp is not None else self._srtp_key(),
            )
        except NoCommonCodec as exc:
            self._respond(ev.request_id, 488, str(exc)[:100])
            return
        except SdpError as exc:
            self._respond(ev.request_id, 400, f"Bad SDP: {exc}"[:100])
            return
        if answer.remote_address != "0.0.0.0":
            apply_sdp(leg, answer)
        self._respond(
            ev.request_id, 200, body=answer.sdp.to_bytes(), content_type="application/sdp"
        )
        if owner is not None and owner[1] is not None:  # an agent's phone held or resumed
            self.transfers.on_hold_offer(ev.dialog_id, answer.hold)

    def _register(self, ev: IncomingRequest) -> None:
        outcome = self.registrar.handle_register(ev.request, ev.source, ev.transport, time.time())
        if outcome.auth_failure is not None and outcome.status == 403:
            log_event(
                log,
                "sip.auth_failed",
                level=logging.WARNING,
                user=outcome.user,
                source=f"{ev.source[0]}:{ev.source[1]}",
                reason=outcome.auth_failure.reason,
            )
        for change in outcome.changes:
            log_event(
                log,
                f"sip.binding_{change.kind}",
                user=change.binding.user,
                contact=change.binding.contact,
            )
        self._respond(ev.request_id, outcome.status, outcome.reason, headers=outcome.headers)

    # ------------------------------------------------------------------ the caller's side

    def _do_Respond(self, a: A.Respond) -> None:
        headers = [("Retry-After", str(a.retry_after))] if a.retry_after is not None else []
        self._respond(a.request_id, a.status, a.reason, headers=headers)

    def _do_OpenCallerLeg(self, a: A.OpenCallerLeg) -> None:
        state = self.core.calls[a.key]
        call = self._runtime(a.key)
        self._by_request[state.request_id] = a.key
        offer = self._offers.pop(state.request_id, None)
        call.hints = self._hints.pop(state.request_id, None)
        self._spawn(self._open_caller_leg(call, offer), f"leg-{a.key}")

    async def _open_caller_leg(self, call: InboundCall, offer: SessionDescription | None) -> None:
        try:
            leg = await self.media.open_leg()
        except MediaError as exc:
            # Under a flood this is every call: a few lines a minute, the rest counted (in
            # the next line and in /api/health's rtp_ports.allocation_failures).
            now = time.monotonic()
            held = self._port_lines.summary(now)
            if self._port_lines.allow(now):
                log_event(
                    log,
                    "call.no_media_port",
                    level=logging.ERROR,
                    call_id=call.call_id,
                    reason=str(exc),
                    suppressed=held,
                )
            self.feed(E.LegReady(call.call_id, "Service Unavailable: no media port free", 503))
            return
        if call.released:  # the caller left while the port was being bound
            await leg.close()
            return
        call.leg = leg
        sv = self._session_version()
        if offer is None:
            # Delayed offer: we offer in the 200 OK and read the answer from the ACK.
            call.late_offer = make_offer(
                self.media.host, leg.local_port, session_id=leg.local_port, session_version=sv
            )
            call.answer_body = call.late_offer.to_bytes()
        else:
            try:
                answer = negotiate(
                    offer,
                    local_address=self.media.host,
                    local_port=leg.local_port,
                    session_id=leg.local_port,
                    session_version=sv,
                    srtp_key=self._srtp_key(),
                )
            except NoCommonCodec as exc:
                self.feed(E.LegReady(call.call_id, str(exc), 488))
                return
            # Pointing the leg at the caller and the 200 OK below happen with no await in
            # between: no RTP can leave before the answer (no call-log write waits here).
            apply_sdp(leg, answer)
            call.answer_body = answer.sdp.to_bytes()
        self._watch_quality(call)
        self.feed(E.LegReady(call.call_id))

    def _srtp_key(self) -> bytes | None:
        """A fresh SRTP master key and salt for an answer (SDES), or None when SRTP is off."""
        return secrets.token_bytes(SRTP_KEY_LENGTH) if self.config.rtp.srtp else None

    def _do_Answer(self, a: A.Answer) -> None:
        call = self.calls[a.key]
        ok = self._respond(
            call.request_id, 200, body=call.answer_body, content_type="application/sdp"
        )
        self.feed(E.AnswerSent(a.key, ok))

    def _do_RunFlow(self, a: A.RunFlow) -> None:
        call = self.calls[a.key]
        call.dialogue = self._spawn(self._run_flow(call, a), f"flow-{a.key}")

    async def _run_flow(self, call: InboundCall, a: A.RunFlow) -> None:
        try:
            outcome = await self.flows.run(a.number, call, self.services, FlowState(a.queue))
        except asyncio.CancelledError:
            return
        except Exception as exc:
            log.exception("flow of call %s failed", call.call_id)
            self.feed(E.DialogueFailed(call.call_id, f"flow failed: {exc}"))
            return
        self.feed(
            E.FlowFinished(
                call.call_id,
                outcome.kind,
                queue=outcome.queue,
                service=outcome.service,
                priority=outcome.priority,
                data=dict(outcome.data),
            )
        )

    def _do_RunService(self, a: A.RunService) -> None:
        call = self.calls[a.key]
        call.dialogue = self._spawn(self._run_service(call, a), f"service-{a.key}")

    async def _run_service(self, call: InboundCall, a: A.RunService) -> None:
        try:
            if a.service == "remote-login":
                await self._remote_login(call)
            elif a.service == "prompt-recording":
                await self.phone_services.record_prompt(call)
            elif a.service == "voicemail":
                await self.phone_services.voicemail(call)
            elif a.service == "voicemail-listen":
                await self.phone_services.listen_voicemail(call)
            elif a.service == "callback-booking":
                number = await book_callback(call)
                self.feed(E.CallbackBooked(call.call_id, number))
                return
            elif a.service == "direct-closed":
                await direct_closed(call, self.config, self.phone_services.voicemail)
            elif a.service == "callback-confirm":
                await call.play(["callback-confirm"])
            elif a.service == "survey" and (survey := self.directory.survey(a.queue)):
                if call.leg is not None:
                    call.leg.flush_digits()  # keys pressed to the agent are not answers
                await run_survey(call, survey)
            else:
                if a.service != "goodbye":
                    await call.log("service_unavailable", service=a.service)
                await call.play(["goodbye"])
        except asyncio.CancelledError:
            return
        except Exception as exc:
            log.exception("service %s of call %s failed", a.service, call.call_id)
            self.feed(E.DialogueFailed(call.call_id, f"{a.service} failed: {exc}"))
            return
        self.feed(E.ServiceFinished(call.call_id))

    async def _remote_login(self, call: InboundCall) -> None:
        from acd import decide_remote_login

        decision = decide_remote_login(call.a_number, self.directory.agents, self.acd.is_logged_in)
        await call.log(
            "remote_login", action=decision.action, agent=decision.agent, reason=decision.reason
        )
        if decision.action == "login" and decision.agent and decision.device:
            self._acd_safely(
                self.acd.agent_login,
                decision.agent,
                f"{TEL_DEVICE}{decision.device.removeprefix(TEL_DEVICE)}",
                list(decision.groups) or None,
            )
        elif decision.action == "logout" and decision.agent:
            self._acd_safely(self.acd.agent_logout, decision.agent, reason="remote logout")
        await call.play([decision.prompt])

    def _do_PlayQueueMusic(self, a: A.PlayQueueMusic) -> None:
        call = self.calls[a.key]
        call.music_name = a.music
        key = a.key
        on_key = (lambda digit: self.feed(E.CallerKeyed(key, digit))) if a.listen else None
        call.start_music(a.message, a.music, on_key)

    def _do_StopQueueMusic(self, a: A.StopQueueMusic) -> None:
        call = self.calls.get(a.key)
        if call is not None:
            call.stop_music()

    def _do_Announce(self, a: A.Announce) -> None:
        call = self.calls[a.key]
        extra = ("callback-offer",) if a.offer_callback else ()
        call.announce(a.position, a.estimated_wait, call.music_name, extra)

    def _do_StopDialogue(self, a: A.StopDialogue) -> None:
        call = self.calls.get(a.key)
        if call is not None and call.dialogue is not None:
            call.dialogue.cancel()
            call.dialogue = None

    def _do_BriefAgent(self, a: A.BriefAgent) -> None:
        agent_leg = self._agent_leg(a.key, a.agent)
        if agent_leg is None or agent_leg.leg is None:
            return
        self._spawn(self._brief(a, agent_leg.leg), f"brief-{a.agent}-{a.key}")

    async def _brief(self, a: A.BriefAgent, leg: MediaLeg) -> None:
        call = self.calls.get(a.key)
        if call is None:
            return
        lang = call.language
        items = self.prompts.resolve_all(list(a.prompts), lang)
        for digit in a.digits:
            if digit.isdigit():
                items += self.prompts.number(int(digit), lang)
        try:
            await leg.play(items)
        except MediaError:
            return
        self.feed(E.AgentBriefed(a.key, a.agent))

    def _do_BridgeAgents(self, a: A.BridgeAgents) -> None:
        call = self.calls[a.key]
        if a.a not in call.agents or a.b not in call.agents:
            return  # a phone's consult leg still opening: bridged once it is (transfers.py)
        first, second = call.agents[a.a], call.agents[a.b]
        assert first.leg is not None and second.leg is not None
        call.bridge = self.media.bridge(first.leg, second.leg)
        log_event(log, "call.bridged", call_id=a.key, agent=a.a, other=a.b)

    def _do_Unbridge(self, a: A.Unbridge) -> None:
        call = self.calls.get(a.key)
        if call is not None and call.bridge is not None:
            call.bridge.stop()
            call.bridge = None

    def _do_HangUpCaller(self, a: A.HangUpCaller) -> None:
        call = self.calls.get(a.key)
        if call is None:
            return
        if call.dialog_id is not None:
            self._by_dialog.pop(call.dialog_id, None)
            self.ua.bye(call.dialog_id, self._loop_now())
            self.sip.transmit()
            call.dialog_id = None
        elif not call.acked:
            self._respond(call.request_id, 480, "Temporarily Unavailable")

    def _do_ReleaseMedia(self, a: A.ReleaseMedia) -> None:
        call = self.calls.get(a.key)
        if call is None:
            self.feed(E.MediaClosed(a.key, {}))
            return
        call.released = True
        call.stop_music()
        if call.dialogue is not None:
            call.dialogue.cancel()  # ends at its next await, unless it must finish (below)
        if call.bridge is not None:
            call.bridge.stop()
        mos, quality = self._stop_quality(call)
        rtp: dict[str, Any] = {}
        legs: list[MediaLeg] = []
        if call.leg is not None:
            rtp["caller"] = _rtp_counts(call.leg)
            legs.append(call.leg)
        connected = self.core.calls[a.key].agent
        agent_leg = call.agents.get(connected) if connected else None
        if agent_leg is None:  # transferred straight to a party (callcore.transfer legs)
            agent_leg = call.agents.get("transfer") or call.agents.get("consult")
        if agent_leg is not None and agent_leg.leg is not None:
            rtp["agent"] = _rtp_counts(agent_leg.leg)
        customer = call.agents.get(CUSTOMER)
        if customer is not None and customer.leg is not None:  # a callback's far end
            rtp["customer"] = _rtp_counts(customer.leg)
        closed = E.MediaClosed(a.key, rtp, mos, quality)
        dialogue = call.dialogue
        if dialogue is not None and not dialogue.done():
            # A dialogue finishes what it must after a hang-up (a voicemail is stored and
            # logged) before the call's last event: the legs close once it let go.
            def after(_task: asyncio.Task[Any]) -> None:
                for leg in legs:
                    self._spawn(leg.close(), f"close-{a.key}")
                self.feed(closed)

            dialogue.add_done_callback(after)
            return
        for leg in legs:
            self._spawn(leg.close(), f"close-{a.key}")
        self.feed(closed)

    def _do_Forget(self, a: A.Forget) -> None:
        self.transfers.forget(a.key)
        call = self.calls.pop(a.key, None)
        if call is None:
            return
        self._by_request.pop(call.request_id, None)
        for agent_leg in call.agents.values():
            self.dialer.release(agent_leg)
        if call.dialog_id is not None:
            self._by_dialog.pop(call.dialog_id, None)
        log_event(log, "call.ended", call_id=a.key)

    # ------------------------------------------------------------------ agents' legs

    def _agent_leg(self, key: str, agent: str) -> AgentLeg | None:
        return self.dialer.leg_of(key, agent)

    def _do_RingAgent(self, a: A.RingAgent) -> None:
        self._runtime(a.key)  # a callback attempt has no caller leg, so no runtime yet
        self.dialer.ring(a)

    def _runtime(self, key: str) -> InboundCall:
        call = self.calls.get(key)
        if call is None:
            call = InboundCall(
                state=self.core.calls[key],
                prompts=self.prompts,
                note=self._note_for(key),
            )
            self.calls[key] = call
        return call

    def _note_for(self, key: str) -> Callable[[str, dict[str, Any]], None]:
        """How a dialogue of call ``key`` reports a step for the call log."""

        def note(kind: str, data: dict[str, Any]) -> None:
            self.feed(E.Note(key, kind, data))

        return note

    def _do_PromptAgent(self, a: A.PromptAgent) -> None:
        self.dialer.prompt(a)

    def _do_DropAgent(self, a: A.DropAgent) -> None:
        self.dialer.drop(a)

    def _do_Bridge(self, a: A.Bridge) -> None:
        call = self.calls[a.key]
        agent_leg = call.agents[a.agent]
        assert call.leg is not None and agent_leg.leg is not None
        call.bridge = self.media.bridge(call.leg, agent_leg.leg)
        log_event(log, "call.bridged", call_id=a.key, agent=a.agent)
        watched = self._quality.get(a.key)
        if watched is not None:
            # Each leg is rated for the phone that plays it: the caller's audio for the agent's.
            watched[0].agent = a.agent
            watched[0].set_listener("caller", agent_leg.hints)
            leg = agent_leg.leg
            # A party the caller was transferred to is rated as a leg of its own (the first
            # agent's leg keeps its figures); the same leg bridged again is not added twice.
            name = self.transfers.quality_leg(a.key, leg, a.agent)
            if name is None:
                return
            watched[0].add_leg(
                name,
                agent_leg.rx_stats or leg.rx_stats,
                self._loop_now(),
                remote=agent_leg.remote_stats or leg.remote_stats,
                on_mos=leg.set_quality,
                listener=call.hints,
            )

    # ------------------------------------------------------------------ transfers

    def _do_Notify(self, a: A.Notify) -> None:
        self.transfers.do_Notify(a)

    def _do_AnswerConsult(self, a: A.AnswerConsult) -> None:
        self.transfers.do_AnswerConsult(a)

    def _do_RejectConsult(self, a: A.RejectConsult) -> None:
        self.transfers.do_RejectConsult(a)

    def _do_HoldParty(self, a: A.HoldParty) -> None:
        self.transfers.do_HoldParty(a)

    def _do_UnholdParty(self, a: A.UnholdParty) -> None:
        self.transfers.do_UnholdParty(a)

    # ------------------------------------------------------------------ call log and ACD

    def _do_Log(self, a: A.Log) -> None:
        ev: CallEvent = a.event
        self.calllog.submit(ev)
        data = ev.data or {}
        log_event(
            log,
            f"call.{ev.kind}",
            level=logging.WARNING if ev.kind in WARNING_EVENTS else logging.INFO,
            call_id=ev.call_id,
            **{k: v for k, v in data.items() if isinstance(v, str | int | float)},
        )

    def _acd_safely(self, method: Callable[..., list[Command]], *args: Any, **kw: Any) -> None:
        try:
            self.runner.run(method, *args, **kw)
        except AcdError as exc:
            log_event(log, "acd.refused", level=logging.WARNING, reason=str(exc))

    def _do_AcdArrived(self, a: A.AcdArrived) -> None:
        self._acd_safely(self.acd.call_arrived, a.call, again=a.again)

    def _do_AcdAnswered(self, a: A.AcdAnswered) -> None:
        self._acd_safely(self.acd.offer_answered, a.call_id, a.agent)

    def _do_AcdOfferFailed(self, a: A.AcdOfferFailed) -> None:
        method = self.acd.offer_rejected if a.rejected else self.acd.offer_failed
        self._acd_safely(method, a.call_id, a.agent, reason=a.reason)

    def _do_SendSms(self, a: A.SendSms) -> None:
        self._spawn(self._send_sms(a), f"sms-{a.key}")

    async def _send_sms(self, a: A.SendSms) -> None:
        try:
            await self.sms.send(a.to, a.text)
        except SmsError as exc:
            log_event(log, "sms.failed", level=logging.WARNING, to=a.to, reason=str(exc))
            self.feed(E.SmsResult(a.key, a.agent, str(exc)))
            return
        self.feed(E.SmsResult(a.key, a.agent))

    def _do_SaveCallback(self, a: A.SaveCallback) -> None:
        self._spawn(self.callbacks.save(a.pending), f"save-callback-{a.pending.callback.origin}")

    def _do_DropCallback(self, a: A.DropCallback) -> None:
        self._spawn(self.callbacks.drop(a.origin), f"drop-callback-{a.origin}")

    async def restore_callbacks(self) -> int:
        """Callbacks stored before a restart or a crash go back in their places."""
        pending = await self.callbacks.pending()
        self._perform(self.core.restore_callbacks(pending, self.clock()))
        return len(pending)

    def _do_AcdWithdrawn(self, a: A.AcdWithdrawn) -> None:
        self._acd_safely(self.acd.call_withdrawn, a.call_id, reason=a.reason)

    def _do_AcdAbandoned(self, a: A.AcdAbandoned) -> None:
        self._acd_safely(self.acd.call_abandoned, a.call_id)

    def _do_AcdEnded(self, a: A.AcdEnded) -> None:
        self._acd_safely(self.acd.call_ended, a.call_id, reason=a.reason)

    def _classified_by_keypad(self, key: str, agent: str, code: str) -> None:
        self._acd_safely(self.acd.classification_given, agent, code, call_id=key)

    def _do_AcdEngaged(self, a: A.AcdEngaged) -> None:
        self._acd_safely(self.acd.agent_engaged, a.agent, a.call_id, only_ready=a.only_ready)

    def _do_AcdReleased(self, a: A.AcdReleased) -> None:
        self._acd_safely(
            self.acd.agent_released, a.agent, a.call_id, queue=a.queue, wrap_up=a.wrap_up
        )

    # ------------------------------------------------------------------ voice quality

    def _watch_quality(self, call: InboundCall) -> None:
        """MOS of the caller's leg from now on (the agent's leg joins when bridged)."""
        rtp = self.config.rtp
        watch = CallQualityWatch(
            call.call_id,
            interval=rtp.mos_interval,
            warn_below=rtp.mos_warning,
            plc=None if rtp.mos_plc == "auto" else rtp.mos_plc,
        )
        leg = call.leg
        assert leg is not None
        watch.add_leg(
            "caller",
            leg.rx_stats,
            self._loop_now(),
            remote=leg.remote_stats,
            on_mos=leg.set_quality,
        )
        task = self._spawn(run_watch(watch, self.publish), f"quality-{call.call_id}")
        self._quality[call.call_id] = (watch, task)

    def live_quality(self, call_id: str) -> dict[str, dict[str, Any]]:
        """Latest interval MOS per leg of a live call (empty before the first interval)."""
        watched = self._quality.get(call_id)
        return watched[0].live() if watched is not None else {}

    def _stop_quality(self, call: InboundCall) -> tuple[float | None, dict[str, Any] | None]:
        """Stop the watch; the call's MOS and per-leg figures for the call record."""
        watched = self._quality.pop(call.call_id, None)
        if watched is None:
            return None, None
        watch, task = watched
        task.cancel()
        for event in watch.close(time.time()):  # clear warnings still shown to the agent
            self.publish(event)
        return watch.summary()

    # ------------------------------------------------------------------ lifecycle

    async def shutdown(self) -> None:
        """Stop accepting and end every live call with BYE."""
        self._perform(self.core.shutdown(self.clock()))
        if self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait(list(self._tasks), timeout=5)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
