"""Ringing agents' devices for the call executor: the outgoing INVITE and its answers.

Resolves a device to where it is reached (registered SIP bindings, a number through the
trunk), opens the agent's media leg, sends the INVITE (answering a trunk's challenge once),
reads the answer SDP, plays the accept prompt and hangs the leg up. What each outcome means
for the call is the call core's to decide: results go back to it as events (``feed``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from callcore import CUSTOMER
from callcore import actions as A
from callcore import events as E
from config import VaxelConfig
from media import MediaEngine, MediaError, MediaLeg
from prompts import PromptError, PromptResolver
from sip import (
    Binding,
    HeaderError,
    Registrar,
    ResponseReceived,
    SdpError,
    SipResponse,
    UserAgent,
    build_authorization,
    make_offer,
    parse_address,
    parse_answer,
    parse_challenge,
    parse_sdp,
    parse_uri,
)
from vaxel.logs import log_event

from .browser_phone import BROWSER_DEVICE, BrowserPhones, CallHooks
from .directory import SIP_DEVICE, TEL_DEVICE
from .media_sdp import apply_sdp, endpoint_hints
from .resolve import ResolveError, resolve_host
from .session import AgentLeg, InboundCall
from .sip_port import SipPort

log = logging.getLogger("vaxel.calls")

# What a phone's final response to our INVITE means for the ACD: a decline, not a failure.
DECLINES = frozenset({486, 600, 603})
DIGITS = "0123456789*#"


def _contact_destination(binding: Binding) -> tuple[str, int]:  # sip.registrar.Binding
    """Where to send requests for a binding: its Contact, unless the phone is behind NAT
    (the Contact names another host than the REGISTER came from): then the source."""
    if binding.transport == "TLS":
        # The connection the phone registered over (RFC 5626-style reuse): a TLS phone
        # has no certificate of its own to accept a connection from us with.
        return binding.source
    try:
        uri = parse_uri(binding.contact.strip("<>"))
    except (HeaderError, ValueError):
        return binding.source
    if uri.host != binding.source[0]:
        return binding.source
    return (uri.host, uri.port or 5060)


class AgentDialer:
    def __init__(
        self,
        *,
        sip: SipPort,
        media: MediaEngine,
        registrar: Registrar,
        config: VaxelConfig,
        host: str,
        prompts: PromptResolver,
        calls: dict[str, InboundCall],
        dialogs: dict[str, tuple[str, str | None]],
        feed: Callable[[E.CallInput], None],
        spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
        session_version: Callable[[], int],
        classified: Callable[[str, str, str], None] = lambda key, agent, code: None,
        browsers: BrowserPhones | None = None,
    ) -> None:
        self.sip = sip
        self.media = media
        self.registrar = registrar
        self.config = config
        self.host = host
        self.prompts = prompts
        self.calls = calls  # the executor's, by call key
        self._by_dialog = dialogs  # the executor's: dialog id -> (call key, agent)
        self._by_handle: dict[str, tuple[str, str]] = {}  # our INVITE -> (call key, agent)
        self.feed = feed
        self._spawn = spawn
        self._session_version = session_version
        self._classified = classified  # (call key, agent, code): to the ACD
        # Agent legs kept after their call ended, asking for the classification by keypad.
        self.classifying: dict[tuple[str, str], AgentLeg] = {}
        self.browsers = browsers  # agents' pages as phones (device browser:<agent>)

    @property
    def ua(self) -> UserAgent:
        return self.sip.ua

    def _loop_now(self) -> float:
        return asyncio.get_running_loop().time()

    def contact(self, transport: str = "UDP") -> str:
        sip = self.config.sip
        port = sip.tls.port if transport.upper() == "TLS" else sip.port
        return f"<sip:vaxel@{self.host}:{port};transport={transport.lower()}>"

    def owner(self, handle: str | None) -> tuple[str, str] | None:
        """(call key, agent) of one of our INVITEs."""
        return self._by_handle.get(handle) if handle else None

    def leg_of(self, key: str, agent: str) -> AgentLeg | None:
        call = self.calls.get(key)
        return call.agents.get(agent) if call is not None else None

    def ring(self, a: A.RingAgent) -> None:
        call = self.calls[a.key]
        agent_leg = AgentLeg(a.agent, a.device, caller_id=a.caller_id)
        old = call.agents.pop(a.agent, None)
        if old is not None:
            self.release(old)
        call.agents[a.agent] = agent_leg
        agent_leg.task = self._spawn(self._ring(call, agent_leg), f"ring-{a.agent}-{a.key}")

    async def _targets(self, device: str) -> list[tuple[str, tuple[str, int], str]]:
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
            host = await resolve_host(trunk.host)
            if trunk.transport == "tls":
                self.sip.set_tls_name((host, trunk.port), trunk.host)
            uri = f"sip:{number}@{trunk.host}:{trunk.port}"
            return [(uri, (host, trunk.port), trunk.transport.upper())]
        return []

    def _registered_user_agent(self, agent_leg: AgentLeg) -> str | None:
        """The User-Agent the rung phone registered with (its 2xx may not say)."""
        if not agent_leg.device.startswith(SIP_DEVICE):
            return None
        user = agent_leg.device[len(SIP_DEVICE) :]
        for b in self.registrar.bindings(user, time.time()):
            if b.contact.strip("<>") == agent_leg.target_uri:
                return b.user_agent
        return None

    async def _ring(self, call: InboundCall, agent_leg: AgentLeg) -> None:
        key, agent = call.call_id, agent_leg.agent
        if agent_leg.device.startswith(BROWSER_DEVICE):
            await self._ring_browser(call, agent_leg)
            return
        try:
            targets = await self._targets(agent_leg.device)
        except ResolveError as exc:
            self.failed(key, agent, f"failed: {exc}")
            return
        if not targets:
            reason = f"device {agent_leg.device} not reachable (not registered)"
            self.failed(key, agent, reason)
            return
        try:
            leg = await self.media.open_leg()
        except MediaError as exc:
            self.failed(key, agent, f"failed: {exc}")
            return
        if agent_leg.dropped:
            await leg.close()
            return
        agent_leg.leg = leg
        agent_leg.offer_sdp = make_offer(
            self.media.host,
            leg.local_port,
            session_id=leg.local_port,
            session_version=self._session_version(),
        )
        agent_leg.target_uri, agent_leg.destination, agent_leg.transport = targets[0]
        self._send_agent_invite(call, agent_leg)

    async def _ring_browser(self, call: InboundCall, agent_leg: AgentLeg) -> None:
        """Ring the agent's page: an engine leg wired to its WebRTC connection."""
        key, agent = call.call_id, agent_leg.agent
        user = agent_leg.device[len(BROWSER_DEVICE) :]
        phone = self.browsers.phone(user) if self.browsers is not None else None
        if phone is None or phone.call is not None:
            why = "busy with another call" if phone is not None else "not connected"
            self.failed(key, agent, f"device {agent_leg.device} {why}")
            return
        try:
            leg = await self.media.open_leg()
        except MediaError as exc:
            self.failed(key, agent, f"failed: {exc}")
            return
        if agent_leg.dropped:
            await leg.close()
            return
        agent_leg.leg = leg

        def answered() -> None:
            if not agent_leg.dropped and not agent_leg.answered:
                agent_leg.answered = True
                self.feed(E.AgentAnswered(key, agent))

        def declined() -> None:
            if not agent_leg.dropped and not agent_leg.answered:
                self.feed(
                    E.AgentOfferFailed(
                        key, agent, "rejected: declined in the browser", rejected=True
                    )
                )

        def gone(reason: str, was_answered: bool) -> None:
            if agent_leg.dropped:
                return
            if was_answered:
                self.feed(E.AgentGone(key, agent, reason))
            else:
                self.failed(key, agent, f"failed: {reason}")

        try:
            await phone.offer(
                key,
                leg,
                queue=call.queue,
                caller=call.a_number,
                hooks=CallHooks(answered, declined, gone),
            )
        except (RuntimeError, OSError, MediaError) as exc:
            self.failed(key, agent, f"failed: {exc}")
            return
        if phone.call is not None:
            agent_leg.rx_stats = phone.call.rx_stats  # rated as the browser's stream arrives
            agent_leg.remote_stats = phone.call.remote_stats

    def _send_agent_invite(
        self,
        call: InboundCall,
        agent_leg: AgentLeg,
        auth_header: tuple[str, str] | None = None,
        call_id: str | None = None,
        cseq: int = 1,
        from_tag: str | None = None,
    ) -> None:
        caller = call.a_number or "anonymous"
        if agent_leg.agent == CUSTOMER:  # a callback's customer sees the centre's number
            trunk = next(iter(self.config.trunks.values()), None)
            caller = (trunk.caller_id if trunk is not None else None) or "vaxel"
        caller = agent_leg.caller_id or caller  # an outbound call's queue or company number
        headers = [("Contact", self.contact(agent_leg.transport))]
        if agent_leg.caller_id and agent_leg.device.startswith(TEL_DEVICE):
            # The network shows (and bills) the asserted identity, not the From (RFC 3325).
            headers.append(("P-Asserted-Identity", f"<sip:{caller}@{self.host}>"))
        if auth_header is not None:
            headers.append(auth_header)
        assert agent_leg.offer_sdp is not None
        handle = self.ua.invite(
            target_uri=agent_leg.target_uri,
            destination=agent_leg.destination,
            transport=agent_leg.transport,
            from_uri=f"sip:{caller}@{self.host}",
            from_display=caller,
            to_uri=agent_leg.target_uri,
            body=agent_leg.offer_sdp.to_bytes(),
            headers=headers,
            call_id=call_id,
            cseq=cseq,
            from_tag=from_tag,
            now=self._loop_now(),
        )
        if agent_leg.handle is not None:
            self._by_handle.pop(agent_leg.handle, None)
        agent_leg.handle = handle
        self._by_handle[handle] = (call.call_id, agent_leg.agent)
        self.sip.transmit()

    def on_response(self, key: str, agent: str, ev: ResponseReceived) -> None:
        agent_leg = self.leg_of(key, agent)
        resp: SipResponse = ev.response
        status = resp.status
        if agent_leg is not None and 100 < status < 200 and not agent_leg.answered:
            self.feed(E.AgentRinging(key, agent))  # an outbound call's phone hears it ring
            return
        if agent_leg is None or status < 200 or agent_leg.answered:
            return
        if 200 <= status < 300:
            agent_leg.answered = True
            if ev.dialog_id:
                agent_leg.dialog_id = ev.dialog_id
                self._by_dialog[ev.dialog_id] = (key, agent)
            try:
                assert agent_leg.offer_sdp is not None and agent_leg.leg is not None
                answer = parse_sdp(resp.body)
                ua = resp.headers.get("User-Agent") or resp.headers.get("Server")
                ua = ua or self._registered_user_agent(agent_leg)
                agent_leg.hints = endpoint_hints(ua, answer)
                apply_sdp(agent_leg.leg, parse_answer(agent_leg.offer_sdp, answer))
            except SdpError as exc:
                log_event(
                    log,
                    "call.agent_bad_sdp",
                    level=logging.WARNING,
                    call_id=key,
                    agent=agent,
                    reason=str(exc),
                )
                self.failed(key, agent, f"failed: bad SDP answer: {exc}")
                return
            self.feed(E.AgentAnswered(key, agent))
            return
        call = self.calls.get(key)
        if (
            status in (401, 407)
            and agent_leg.auth_tries == 0
            and call is not None
            and self._retry_with_credentials(call, agent_leg, resp)
        ):
            return
        reason = f"{status} {resp.reason}".strip()
        if status in DECLINES:
            self.feed(
                E.AgentOfferFailed(key, agent, f"rejected: {reason}", rejected=True, status=status)
            )
        else:
            self.failed(key, agent, f"failed: {reason}", status)

    def failed(self, key: str, agent: str, reason: str, status: int | None = None) -> None:
        self.feed(E.AgentOfferFailed(key, agent, reason, status=status))

    def _retry_with_credentials(
        self, call: InboundCall, agent_leg: AgentLeg, resp: SipResponse
    ) -> bool:
        """Answer a trunk's challenge with its credentials (only for calls via the trunk)."""
        trunk = next(iter(self.config.trunks.values()), None)
        if (
            trunk is None
            or not trunk.username
            or not trunk.password
            or not agent_leg.device.startswith(TEL_DEVICE)
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
            uri=agent_leg.target_uri,
            username=trunk.username,
            password=trunk.password,
            cnonce=secrets.token_hex(8),
        )
        agent_leg.auth_tries += 1
        from_tag = parse_address(resp.headers.get("From") or "").tag
        self._send_agent_invite(
            call,
            agent_leg,
            ("Authorization" if resp.status == 401 else "Proxy-Authorization", authz),
            call_id=resp.headers.get("Call-ID"),
            cseq=cseq,
            from_tag=from_tag,
        )
        return True

    def prompt(self, a: A.PromptAgent) -> None:
        agent_leg = self.leg_of(a.key, a.agent)
        if agent_leg is None or agent_leg.leg is None:
            return
        self._spawn(self._accept_prompt(a, agent_leg.leg), f"accept-{a.agent}-{a.key}")

    async def _accept_prompt(self, a: A.PromptAgent, leg: MediaLeg) -> None:
        call = self.calls.get(a.key)
        if call is None:
            return
        lang = call.language
        try:
            prompts = self.prompts.resolve_all([a.prompt], lang)
        except PromptError:
            prompts = self.prompts.resolve_all(["accept-call"], lang)
        leg.flush_digits()
        try:
            played = await leg.play(prompts, interrupt_digits=DIGITS)
            digit = played.digit
            if digit is None and played.reason != "hangup":
                got = await leg.collect_digits(1, a.timeout, a.timeout, None)
                digit = got.digits or None
        except MediaError:
            return
        self.feed(E.AgentKeyed(a.key, a.agent, digit))

    def drop(self, a: A.DropAgent) -> None:
        agent_leg = self.leg_of(a.key, a.agent)
        if agent_leg is None:
            return
        call = self.calls[a.key]
        del call.agents[a.agent]
        if a.classify and agent_leg.leg is not None and agent_leg.dialog_id is not None:
            self.classifying[(a.key, a.agent)] = agent_leg
            agent_leg.task = self._spawn(
                self._classify(a, agent_leg, agent_leg.leg, call.language),
                f"classify-{a.agent}-{a.key}",
            )
            return
        self.release(agent_leg)

    async def _classify(
        self, a: A.DropAgent, agent_leg: AgentLeg, leg: MediaLeg, lang: str
    ) -> None:
        """Ask the agent left on the line for the call's classification: one key, the
        code's position; a wrong key is asked again once. Then hang up the leg."""
        try:
            question = self.prompts.resolve_all(["classify-call"], lang)
            invalid = self.prompts.resolve_all(["invalid-choice"], lang)
            beep = self.prompts.resolve_all(["beep"], lang)
            leg.flush_digits()
            for attempt in range(2):
                played = await leg.play(question if attempt == 0 else invalid + question,
                                        interrupt_digits=DIGITS)  # fmt: skip
                if played.reason == "hangup":
                    return
                got = await leg.collect_digits(1, a.classify_timeout, a.classify_timeout, None)
                if not got.digits:
                    return  # no key: the code can still come by the API until wrap-up ends
                position = int(got.digits) if got.digits.isdigit() else 0
                if 1 <= position <= len(a.classify):
                    self._classified(a.key, a.agent, a.classify[position - 1])
                    await leg.play(beep)
                    return
        except (MediaError, PromptError) as exc:
            log_event(log, "call.classify_failed", call_id=a.key, agent=a.agent, reason=str(exc))
        finally:
            self.classifying.pop((a.key, a.agent), None)
            self.release(agent_leg)

    def classify_gone(self, dialog_id: str) -> bool:
        """The agent hung up while asked for the classification: stop asking."""
        for agent_leg in self.classifying.values():
            if agent_leg.dialog_id == dialog_id:
                agent_leg.dialog_id = None  # nothing to BYE any more
                if agent_leg.task is not None:
                    agent_leg.task.cancel()
                return True
        return False

    def release(self, agent_leg: AgentLeg) -> None:
        """Stop ringing (CANCEL) or hang up (BYE) an agent leg and close it; idempotent."""
        if agent_leg.dropped:
            return
        agent_leg.dropped = True
        if agent_leg.device.startswith(BROWSER_DEVICE) and self.browsers is not None:
            self.browsers.end_leg(agent_leg.device[len(BROWSER_DEVICE) :], agent_leg.leg)
        if agent_leg.dialog_id is not None:
            self._by_dialog.pop(agent_leg.dialog_id, None)
            self.ua.bye(agent_leg.dialog_id, self._loop_now())
            agent_leg.dialog_id = None
        elif agent_leg.handle is not None and not agent_leg.answered:
            self.ua.cancel(agent_leg.handle, self._loop_now())
        if agent_leg.handle is not None:
            self._by_handle.pop(agent_leg.handle, None)
        self.sip.transmit()
        if agent_leg.leg is not None:
            leg, agent_leg.leg = agent_leg.leg, None
            self._spawn(leg.close(), "close-agent-leg")
