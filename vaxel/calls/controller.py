"""The call controller: carries out what the SIP, IVR and ACD cores decide.

SIP events come in from the endpoint (``on_event``); each incoming call runs as one
task (answer, IVR flow, queue, bridge, hang-up), agent devices are rung on the ACD's
``OfferCall`` commands, and every step is written to the call log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from acd.commands import AnnouncePosition, CancelOffer, OfferCall, Overflow
from acd.core import Acd
from acd.model import Call
from acd.remote_login import decide_remote_login
from ivr import FlowPlan, FlowState
from media.engine import MediaEngine, MediaError
from sip.digest import build_authorization, parse_challenge
from sip.headers import HeaderError, parse_address
from sip.message import SipResponse
from sip.registrar import AuthRejection, Registrar
from sip.sdp import NoCommonCodec, SdpError, make_offer, negotiate, parse_answer, parse_sdp
from sip.uri import parse_uri
from sip.useragent import (
    AckReceived,
    ByeReceived,
    CallCancelled,
    DialogEstablished,
    DialogTerminated,
    IncomingRequest,
    InDialogRequest,
    ReInvite,
    RequestTimeout,
    ResponseReceived,
    TransportError,
    UserAgent,
)
from vaxel.logs import log_event
from vaxel.storage import CallLog, CallLogEvent
from vaxel.storage.calllog import CallSummary

from .acd_runner import AcdRunner
from .directory import SIP_DEVICE, TEL_DEVICE, Directory
from .flow_services import FlowServicesImpl
from .phone_services import PhoneServices
from .prompts import PromptResolver
from .quality_watch import CallQualityWatch, run_watch
from .session import AgentOffer, InboundCall

log = logging.getLogger("vaxel.calls")

ACK_TIMEOUT = 32.0  # 64*T1: the UA core gives up on the 2xx by then anyway
# Before a BYE that follows Vaxel's last prompt (closed message, service prompts): the
# phone's jitter buffer still holds its final ~100-200 ms, which an immediate BYE cuts off.
HANGUP_GRACE = 0.5
# Call events that mean the operator has something to fix: warnings in the log.
WARNING_EVENTS = frozenset({"prompt_missing"})


class SipPort(Protocol):
    """The SIP endpoint as the controller sees it: the UA core plus a way to flush it."""

    @property
    def ua(self) -> UserAgent: ...

    def transmit(self) -> None:
        """Send what the UA core queued and re-arm its timer."""


def _user_of(value: str | None) -> str | None:
    if not value:
        return None
    try:
        uri = parse_address(value).uri
        return parse_uri(uri).user
    except (HeaderError, ValueError):
        return None


def _rtp_counts(leg) -> dict[str, int]:  # noqa: ANN001 - media.engine.MediaLeg
    c = leg.stats
    return {"sent": c.packets_sent, "received": c.packets_received, "malformed": c.malformed}


def _contact_destination(binding) -> tuple[str, int]:  # noqa: ANN001 - sip.registrar.Binding
    """Where to send requests for a binding: its Contact, unless the phone is behind NAT
    (the Contact names another host than the REGISTER came from): then the source."""
    try:
        uri = parse_uri(binding.contact.strip("<>"))
    except (HeaderError, ValueError):
        return binding.source
    if uri.host != binding.source[0]:
        return binding.source
    return (uri.host, uri.port or 5060)


class CallController:
    def __init__(
        self,
        *,
        directory: Directory,
        sip: SipPort | None,
        media: MediaEngine,
        calllog: CallLog,
        registrar: Registrar,
        runner: AcdRunner,
        prompts: PromptResolver,
        services: FlowServicesImpl,
        advertised_host: str,
        publish: Callable[[dict], None] = lambda e: None,
    ) -> None:
        self.directory = directory
        self.config = directory.config
        self.sip: SipPort = sip  # type: ignore[assignment]  # set by the server once bound
        self.media = media
        self.calllog = calllog
        self.registrar = registrar
        self.runner = runner
        self.acd: Acd = runner.acd
        self.prompts = prompts
        self.services = services
        self.flows = FlowPlan.from_config(self.config)  # IVR steps per number, built once
        self.phone_services: PhoneServices | None = None  # set by the wiring (needs storage)
        self.host = advertised_host
        self.publish = publish
        self.calls: dict[str, InboundCall] = {}  # by SIP Call-ID of the caller's dialog
        self._by_request: dict[str, InboundCall] = {}
        self._by_dialog: dict[str, InboundCall | AgentOffer] = {}
        self._by_handle: dict[str, AgentOffer] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._quality: dict[str, tuple[CallQualityWatch, asyncio.Task[None]]] = {}
        self._accepting = True
        self._sdp_version = 1
        runner.sink = self

    # ------------------------------------------------------------------ plumbing

    @property
    def ua(self) -> UserAgent:
        return self.sip.ua

    def _now(self) -> float:
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
        ok = self.ua.respond(request_id, status, reason, now=self._now(), **kw)
        self.sip.transmit()
        return ok

    async def _log(self, call: InboundCall, kind: str, **data: Any) -> None:
        await self.calllog.append(
            CallLogEvent(
                call.call_id,
                kind,
                queue=call.queue,
                agent=call.agent.agent if call.agent else None,
                a_number=call.a_number,
                b_number=call.b_number,
                data=data or None,
            )
        )
        log_event(
            log,
            f"call.{kind}",
            level=logging.WARNING if kind in WARNING_EVENTS else logging.INFO,
            call_id=call.call_id,
            **{k: v for k, v in data.items() if isinstance(v, str | int | float)},
        )

    def _session_version(self) -> int:
        self._sdp_version += 1
        return self._sdp_version

    def _contact(self, transport: str = "UDP") -> str:
        port = self.config.sip.port
        return f"<sip:vaxel@{self.host}:{port};transport={transport.lower()}>"

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
                self._spawn(self._incoming_invite(ev), f"invite-{ev.request_id}")
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
            call = self._by_request.get(ev.request_id)
            if call is not None:
                call.end_reason = "caller cancelled"
                if call.task is not None:
                    call.task.cancel()
        elif isinstance(ev, DialogEstablished):
            if ev.role == "uas":
                call = self._by_request.get(ev.handle)
                if call is not None:
                    call.dialog_id = ev.dialog_id
                    self._by_dialog[ev.dialog_id] = call
            else:
                offer = self._by_handle.get(ev.handle)
                if offer is not None:
                    offer.dialog_id = ev.dialog_id
                    self._by_dialog[ev.dialog_id] = offer
        elif isinstance(ev, AckReceived):
            owner = self._by_dialog.get(ev.dialog_id)
            if isinstance(owner, InboundCall) and not owner.acked.done():
                owner.acked.set_result(ev.body)
        elif isinstance(ev, ByeReceived | DialogTerminated):
            reason = "hangup" if isinstance(ev, ByeReceived) else ev.reason
            self._dialog_gone(ev.dialog_id, reason)
        elif isinstance(ev, ReInvite):
            self._reinvite(ev)
        elif isinstance(ev, InDialogRequest):
            self._respond(ev.request_id, 200)
        elif isinstance(ev, ResponseReceived):
            offer = self._by_handle.get(ev.handle)
            if offer is not None:
                self._agent_response(offer, ev)
        elif isinstance(ev, RequestTimeout | TransportError):
            offer = self._by_handle.get(ev.handle) if ev.handle else None
            if offer is not None:
                offer.settle("failed")

    def _dialog_gone(self, dialog_id: str, reason: str) -> None:
        owner = self._by_dialog.pop(dialog_id, None)
        if isinstance(owner, InboundCall):
            owner.dialog_id = None  # nothing to BYE any more
            owner.end_reason = owner.end_reason or f"caller {reason}"
            if not owner.acked.done():
                owner.acked.set_exception(ConnectionError(reason))
            if owner.task is not None:
                owner.task.cancel()
        elif isinstance(owner, AgentOffer):
            owner.dialog_id = None
            call = owner.call
            if call.agent is owner:
                call.end_reason = call.end_reason or f"agent {reason}"
                call.ended.set()
            else:
                owner.settle("failed")

    def _reinvite(self, ev: ReInvite) -> None:
        """Hold/resume or a media change: follow the new address, answer with our SDP."""
        owner = self._by_dialog.get(ev.dialog_id)
        leg = owner.leg if owner is not None else None
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
            )
        except NoCommonCodec as exc:
            self._respond(ev.request_id, 488, str(exc)[:100])
            return
        except SdpError as exc:
            self._respond(ev.request_id, 400, f"Bad SDP: {exc}"[:100])
            return
        if answer.remote_address != "0.0.0.0":
            leg.set_remote(
                answer.remote_address,
                answer.remote_port,
                answer.codec.name,
                answer.codec.payload_type,
                answer.telephone_event_pt,
            )
        self._respond(
            ev.request_id,
            200,
            body=answer.sdp.to_bytes(),
            content_type="application/sdp",
        )

    # ------------------------------------------------------------------ REGISTER

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

    # ------------------------------------------------------------------ incoming calls

    async def _incoming_invite(self, ev: IncomingRequest) -> None:
        req = ev.request
        rid = ev.request_id
        if not self._accepting:
            self._respond(
                rid, 503, "Service Unavailable: shutting down", headers=[("Retry-After", "30")]
            )
            return
        try:
            b_number = parse_uri(req.uri).user or ""
        except (HeaderError, ValueError):
            b_number = ""
        a_number = _user_of(req.headers.get("From"))
        # Agents' own phones must prove who they are before they may place calls.
        if self.directory.is_agent(a_number):
            auth = self.registrar.authenticate_request(req, time.time(), proxy=True)
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
                self._respond(rid, auth.status, auth.reason, headers=auth.headers)
                return
        route = self.directory.route(b_number)
        if route is None:
            self._respond(rid, 404, f"Not Found: no number {b_number!r} in the number plan"[:100])
            log_event(log, "call.unknown_number", call_id=req.call_id, b_number=b_number)
            return
        offer = None
        if req.body:
            try:
                offer = parse_sdp(req.body)
            except SdpError as exc:
                self._respond(rid, 400, f"Bad SDP: {exc}"[:100])
                return
        try:
            leg = await self.media.open_leg()
        except MediaError as exc:
            log_event(
                log, "call.no_media_port", level=logging.ERROR, call_id=req.call_id, reason=str(exc)
            )
            self._respond(
                rid, 503, "Service Unavailable: no media port free", headers=[("Retry-After", "5")]
            )
            return
        queue = route.target.queue
        call = InboundCall(
            call_id=req.call_id or f"vaxel-{secrets.token_hex(8)}",
            request_id=rid,
            a_number=a_number,
            b_number=b_number,
            language=self.directory.language_for(b_number, queue),
            leg=leg,
            prompts=self.prompts,
            queue=queue,
        )
        call.log = lambda kind, **data: self._log(call, kind, **data)  # type: ignore[method-assign]
        call.task = asyncio.current_task()
        self._by_request[rid] = call
        self.calls[call.call_id] = call
        self._watch_quality(call)
        try:
            await self._answer_and_run(call, offer, route.target)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("call %s failed", call.call_id)
            call.outcome = "error"
        finally:
            await self._finish_call(call)

    async def _answer_and_run(self, call: InboundCall, offer, target) -> None:
        leg = call.leg
        sv = self._session_version()
        if offer is not None:
            try:
                answer = negotiate(
                    offer,
                    local_address=self.media.host,
                    local_port=leg.local_port,
                    session_id=leg.local_port,
                    session_version=sv,
                )
            except NoCommonCodec as exc:
                call.outcome = "rejected"
                self._respond(call.request_id, 488, str(exc)[:100])
                return
            leg.set_remote(
                answer.remote_address,
                answer.remote_port,
                answer.codec.name,
                answer.codec.payload_type,
                answer.telephone_event_pt,
            )
            body = answer.sdp.to_bytes()
        else:
            # Delayed offer: we offer in the 200 OK and read the answer from the ACK.
            call.late_offer = make_offer(
                self.media.host, leg.local_port, session_id=leg.local_port, session_version=sv
            )
            body = call.late_offer.to_bytes()
        await self._log(call, "incoming", service=target.service, queue=target.queue)
        if target.ring_seconds > 0:
            self._respond(call.request_id, 180, "Ringing")
            await asyncio.sleep(target.ring_seconds)
        if not self._respond(
            call.request_id,
            200,
            body=body,
            content_type="application/sdp",
        ):
            call.outcome = "cancelled"
            return
        call.answered_at = time.time()
        ack_body = await asyncio.wait_for(asyncio.shield(call.acked), ACK_TIMEOUT)
        if call.late_offer is not None:
            try:
                neg = parse_answer(call.late_offer, parse_sdp(ack_body))
            except SdpError as exc:
                call.end_reason = f"bad SDP answer in ACK: {exc}"
                return
            leg.set_remote(
                neg.remote_address,
                neg.remote_port,
                neg.codec.name,
                neg.codec.payload_type,
                neg.telephone_event_pt,
            )
        await self._run_target(call, target.service)
        if call.agent is None and call.dialog_id is not None:
            # Vaxel hangs up after its own last prompt: let the phone play the tail.
            await asyncio.sleep(HANGUP_GRACE)

    async def _run_target(self, call: InboundCall, service: str | None) -> None:
        """A number's service, or its queue's flow; flows hand over to services here too."""
        if service == "remote-login":
            await self._remote_login(call)
        elif service == "prompt-recording" and self.phone_services is not None:
            await self.phone_services.record_prompt(call)
        elif service == "voicemail" and self.phone_services is not None:
            await self.phone_services.voicemail(call)
        elif service is not None:
            await self._unsupported_service(call, service)
        else:
            await self._queue_call(call)

    async def _unsupported_service(self, call: InboundCall, service: str) -> None:
        call.outcome = "service_unavailable"
        await self._log(call, "service_unavailable", service=service)
        await call.play(["goodbye"])

    async def _remote_login(self, call: InboundCall) -> None:
        call.outcome = "remote_login"
        decision = decide_remote_login(call.a_number, self.directory.agents, self.acd.is_logged_in)
        await self._log(
            call,
            "remote_login",
            action=decision.action,
            agent=decision.agent,
            reason=decision.reason,
        )
        if decision.action == "login" and decision.agent and decision.device:
            await self.runner.apply_safely(
                self.acd.agent_login,
                decision.agent,
                f"{TEL_DEVICE}{decision.device.removeprefix(TEL_DEVICE)}",
                list(decision.groups) or None,
            )
        elif decision.action == "logout" and decision.agent:
            await self.runner.apply_safely(
                self.acd.agent_logout, decision.agent, reason="remote logout"
            )
        await call.play([decision.prompt])

    async def _queue_call(self, call: InboundCall) -> None:
        assert call.queue is not None
        state = FlowState(call.queue)
        outcome = await self.flows.run(call.b_number, call, self.services, state)
        if outcome.service is not None:  # a menu choice or the voicemail step
            call.queue = outcome.queue or call.queue
            await self._run_target(call, outcome.service)
            return
        if outcome.kind != "queue":
            call.outcome = outcome.kind
            return
        call.queue = outcome.queue or call.queue
        self.runner.numbers[call.call_id] = (call.a_number, call.b_number)
        call.enqueued_at = time.time()
        call.start_hold_music()
        await self.runner.apply(
            self.acd.call_arrived,
            Call(
                call.call_id,
                call.queue,
                outcome.priority,
                a_number=call.a_number,
                b_number=call.b_number,
            ),
        )
        call.in_acd = True
        call.outcome = "abandoned"  # until an agent answers
        await call.connected.wait()
        call.outcome = "answered"
        await call.ended.wait()

    async def _finish_call(self, call: InboundCall) -> None:
        """Whatever ended the call: hang up both sides, tell the ACD, write the summary."""
        call.stop_hold_music()
        if call.bridge is not None:
            call.bridge.stop()
        if call.in_acd:
            call.in_acd = False
            await self.runner.apply_safely(self.acd.call_abandoned, call.call_id)
        for offer in list(call.offers.values()):
            self._end_offer(offer)
        if call.agent is not None:
            self._end_offer(call.agent)
        if call.dialog_id is not None:
            self._by_dialog.pop(call.dialog_id, None)
            self.ua.bye(call.dialog_id, self._now())
            self.sip.transmit()
            call.dialog_id = None
        elif not call.acked.done() and self.ua.respond(
            call.request_id, 480, "Temporarily Unavailable", now=self._now()
        ):
            self.sip.transmit()
        mos, quality = self._stop_quality(call)
        rtp = {"caller": _rtp_counts(call.leg)}
        if call.agent is not None and call.agent.leg is not None:
            rtp["agent"] = _rtp_counts(call.agent.leg)
        await call.leg.close()
        if call.agent is not None and call.agent.leg is not None:
            await call.agent.leg.close()
        self._by_request.pop(call.request_id, None)
        self.calls.pop(call.call_id, None)
        self.runner.numbers.pop(call.call_id, None)
        ended = time.time()
        agent = call.agent.agent if call.agent else None
        talk = ended - call.connected_at if call.connected_at else None
        wait = (call.connected_at or ended) - call.enqueued_at if call.enqueued_at else None
        await self.calllog.append(
            CallLogEvent(
                call.call_id,
                "hangup",
                queue=call.queue,
                agent=agent,
                a_number=call.a_number,
                b_number=call.b_number,
                data={
                    "reason": call.end_reason or "ended",
                    "outcome": call.outcome,
                    "rtp": rtp,
                    "mos": mos,
                },
            ),
            CallSummary(
                call.call_id,
                started_at=datetime.fromtimestamp(call.started_at, UTC),
                ended_at=datetime.fromtimestamp(ended, UTC),
                outcome=call.outcome,
                a_number=call.a_number,
                b_number=call.b_number,
                queue=call.queue,
                agent=agent,
                wait_seconds=round(wait, 3) if wait is not None else None,
                talk_seconds=round(talk, 3) if talk is not None else None,
                mos=mos,
                quality=quality,
            ),
        )
        log_event(
            log, "call.ended", call_id=call.call_id, outcome=call.outcome, reason=call.end_reason
        )

    # ------------------------------------------------------------------ ACD commands

    def offer_call(self, cmd: OfferCall) -> None:
        call = self.calls.get(cmd.call.id)
        if call is None or call.ended.is_set():
            self._spawn(
                self.runner.apply_safely(
                    self.acd.offer_failed, cmd.call.id, cmd.agent, reason="call gone"
                ),
                "offer-gone",
            )
            return
        offer = AgentOffer(call=call, agent=cmd.agent, device=cmd.device)
        call.offers[cmd.agent] = offer
        self._spawn(self._ring_agent(offer), f"ring-{cmd.agent}-{call.call_id}")

    def cancel_offer(self, cmd: CancelOffer) -> None:
        call = self.calls.get(cmd.call.id)
        offer = call.offers.get(cmd.agent) if call else None
        if offer is not None and offer is not (call.agent if call else None):
            offer.cancelled = True
            self._end_offer(offer)

    def overflow(self, cmd: Overflow) -> None:
        call = self.calls.get(cmd.call.id)
        if call is None:
            return
        call.queue = cmd.to_queue
        if not cmd.internal:
            # The target is outside the ACD: this version only knows queues there.
            call.in_acd = False
            call.end_reason = f"overflow to {cmd.to_queue} ({cmd.reason})"
            call.ended.set()

    def announce_position(self, cmd: AnnouncePosition) -> None:
        call = self.calls.get(cmd.call.id)
        if call is not None and not call.connected.is_set():
            self._spawn(call.announce(cmd.position, cmd.estimated_wait), f"announce-{call.call_id}")

    # ------------------------------------------------------------------ ringing agents

    def _resolve_device(self, device: str) -> list[tuple[str, tuple[str, int], str]]:
        """(target URI, destination address, transport) for each way to ring ``device``."""
        if device.startswith(SIP_DEVICE):
            user = device[len(SIP_DEVICE) :]
            bindings = self.registrar.bindings(user, time.time())  # best first
            return [(b.contact.strip("<>"), _contact_destination(b), b.transport) for b in bindings]
        if device.startswith(TEL_DEVICE):
            number = device[len(TEL_DEVICE) :]
            if not self.config.trunks:
                return []
            trunk = next(iter(self.config.trunks.values()))
            host = socket.gethostbyname(trunk.host)
            uri = f"sip:{number}@{trunk.host}:{trunk.port}"
            return [(uri, (host, trunk.port), trunk.transport.upper())]
        return []

    async def _ring_agent(self, offer: AgentOffer) -> None:
        call = offer.call
        targets = self._resolve_device(offer.device)
        if not targets:
            await self.runner.apply_safely(
                self.acd.offer_failed,
                call.call_id,
                offer.agent,
                reason=f"device {offer.device} not reachable (not registered)",
            )
            call.offers.pop(offer.agent, None)
            return
        uri, destination, transport = targets[0]
        try:
            offer.leg = await self.media.open_leg()
        except MediaError as exc:
            await self.runner.apply_safely(
                self.acd.offer_failed, call.call_id, offer.agent, reason=str(exc)
            )
            call.offers.pop(offer.agent, None)
            return
        offer.offer_sdp = make_offer(
            self.media.host,
            offer.leg.local_port,
            session_id=offer.leg.local_port,
            session_version=self._session_version(),
        )
        offer.target_uri, offer.destination, offer.transport = uri, destination, transport
        self._send_agent_invite(offer)
        outcome = await offer.result
        if (
            outcome == "answered"
            and not offer.cancelled
            and call.agent is None
            and not call.ended.is_set()
        ):
            await self.runner.apply(self.acd.offer_answered, call.call_id, offer.agent)
            if offer.cancelled or call.ended.is_set():
                self._end_offer(offer)  # the ACD said the answer came too late
                return
            self._connect(call, offer)
            return
        if outcome == "answered":
            self._end_offer(offer)  # answered after the call moved on: hang the agent up
        elif not offer.cancelled:
            method = self.acd.offer_rejected if outcome == "rejected" else self.acd.offer_failed
            await self.runner.apply_safely(method, call.call_id, offer.agent, reason=outcome)
        if call.offers.get(offer.agent) is offer:
            call.offers.pop(offer.agent, None)
        if offer.leg is not None and call.agent is not offer:
            await offer.leg.close()

    def _send_agent_invite(
        self,
        offer: AgentOffer,
        auth_header: tuple[str, str] | None = None,
        call_id: str | None = None,
        cseq: int = 1,
        from_tag: str | None = None,
    ) -> None:
        call = offer.call
        caller = call.a_number or "anonymous"
        headers = [("Contact", self._contact(offer.transport))]
        if auth_header is not None:
            headers.append(auth_header)
        handle = self.ua.invite(
            target_uri=offer.target_uri,
            destination=offer.destination,
            transport=offer.transport,
            from_uri=f"sip:{caller}@{self.host}",
            from_display=caller,
            to_uri=offer.target_uri,
            body=offer.offer_sdp.to_bytes(),
            headers=headers,
            call_id=call_id,
            cseq=cseq,
            from_tag=from_tag,
            now=self._now(),
        )
        if offer.handle is not None:
            self._by_handle.pop(offer.handle, None)
        offer.handle = handle
        self._by_handle[handle] = offer
        self.sip.transmit()

    def _agent_response(self, offer: AgentOffer, ev: ResponseReceived) -> None:
        resp: SipResponse = ev.response
        status = resp.status
        if status < 200:
            return
        if 200 <= status < 300:
            if ev.dialog_id:
                offer.dialog_id = ev.dialog_id
                self._by_dialog[ev.dialog_id] = offer
            try:
                neg = parse_answer(offer.offer_sdp, parse_sdp(resp.body))
            except SdpError as exc:
                log_event(
                    log,
                    "call.agent_bad_sdp",
                    level=logging.WARNING,
                    call_id=offer.call.call_id,
                    agent=offer.agent,
                    reason=str(exc),
                )
                offer.settle("failed")
                if ev.dialog_id:
                    self._end_offer(offer)
                return
            assert offer.leg is not None
            offer.leg.set_remote(
                neg.remote_address,
                neg.remote_port,
                neg.codec.name,
                neg.codec.payload_type,
                neg.telephone_event_pt,
            )
            offer.settle("answered")
            return
        if (
            status in (401, 407)
            and offer.auth_tries == 0
            and self._retry_with_credentials(offer, resp)
        ):
            return
        offer.settle("rejected" if status in (486, 600, 603) else "failed")

    def _retry_with_credentials(self, offer: AgentOffer, resp: SipResponse) -> bool:
        """Answer a trunk's challenge with its credentials (only for calls via the trunk)."""
        trunk = next(iter(self.config.trunks.values()), None)
        if (
            trunk is None
            or not trunk.username
            or not trunk.password
            or not offer.device.startswith(TEL_DEVICE)
        ):
            return False
        header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        value = resp.headers.get(header)
        if value is None:
            return False
        try:
            challenge = parse_challenge(value)
        except ValueError:
            return False
        cseq = int((resp.headers.get("CSeq") or "1 INVITE").split()[0]) + 1
        authz = build_authorization(
            challenge,
            method="INVITE",
            uri=offer.target_uri,
            username=trunk.username,
            password=trunk.password,
            cnonce=secrets.token_hex(8),
        )
        offer.auth_tries += 1
        from_tag = parse_address(resp.headers.get("From") or "").tag
        self._send_agent_invite(
            offer,
            ("Authorization" if resp.status == 401 else "Proxy-Authorization", authz),
            call_id=resp.headers.get("Call-ID"),
            cseq=cseq,
            from_tag=from_tag,
        )
        return True

    def _end_offer(self, offer: AgentOffer) -> None:
        """Stop ringing (CANCEL) or hang up (BYE) an agent leg; idempotent."""
        if offer.dialog_id is not None:
            self._by_dialog.pop(offer.dialog_id, None)
            self.ua.bye(offer.dialog_id, self._now())
            offer.dialog_id = None
        elif offer.handle is not None and not offer.result.done():
            self.ua.cancel(offer.handle, self._now())
        self.sip.transmit()
        offer.settle("cancelled")
        if offer.leg is not None and offer.call.agent is not offer:
            leg, offer.leg = offer.leg, None
            self._spawn(leg.close(), "close-agent-leg")

    def _connect(self, call: InboundCall, offer: AgentOffer) -> None:
        call.agent = offer
        call.connected_at = time.time()
        call.stop_hold_music()
        assert offer.leg is not None
        call.bridge = self.media.bridge(call.leg, offer.leg)
        call.connected.set()
        log_event(log, "call.bridged", call_id=call.call_id, agent=offer.agent)
        watched = self._quality.get(call.call_id)
        if watched is not None:
            watched[0].agent = offer.agent
            leg = offer.leg
            watched[0].add_leg(
                "agent", leg.rx_stats, self._now(), remote=leg.remote_stats, on_mos=leg.set_quality
            )

    # ------------------------------------------------------------------ voice quality

    def _watch_quality(self, call: InboundCall) -> None:
        """MOS of the caller's leg from now on (the agent's leg joins when bridged)."""
        rtp = self.config.rtp
        watch = CallQualityWatch(
            call.call_id, interval=rtp.mos_interval, warn_below=rtp.mos_warning, plc=rtp.mos_plc
        )
        leg = call.leg
        watch.add_leg(
            "caller", leg.rx_stats, self._now(), remote=leg.remote_stats, on_mos=leg.set_quality
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
        self._accepting = False
        for call in list(self.calls.values()):
            call.end_reason = "server shutdown"
            if call.task is not None:
                call.task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        for call in list(self.calls.values()):
            with contextlib.suppress(Exception):
                await self._finish_call(call)
