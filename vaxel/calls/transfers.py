"""Carrying out transfers (``callcore.transfer``) for the call executor.

What the agent's phone asks becomes an ``AgentControl`` for the call core: a REFER in the
call's dialog (blind, RFC 3515; with Replaces naming the agent's consult dialog: attended,
RFC 3891), a hold/resume re-INVITE, and a second INVITE while the agent is on a call (the
consult). What the core decides comes back here: the REFER's NOTIFY progress
(message/sipfrag), answering or refusing the phone's consult INVITE, hold music on a leg
that is not the caller's. The decisions stay in the core.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from callcore import AgentControl, ControlResult, TransferOptions, TransferTarget, Via
from callcore import actions as A
from callcore import events as E
from callcore import transfer as X
from media import MediaError, MediaLeg
from prompts import PromptError
from sip import (
    HeaderError,
    IncomingRequest,
    InDialogRequest,
    NoCommonCodec,
    SdpError,
    negotiate,
    parse_address,
    parse_sdp,
    parse_uri,
)
from vaxel.logs import log_event

from .directory import TEL_DEVICE
from .media_sdp import apply_sdp, endpoint_hints
from .session import AgentLeg

if TYPE_CHECKING:
    from .controller import CallController

log = logging.getLogger("vaxel.calls")
SIPFRAG = "message/sipfrag;version=2.0"


@dataclass(eq=False)
class _PhoneConsult:
    """The agent phone's consult INVITE, answered once the consulted party is on."""

    request_id: str
    leg: MediaLeg
    answer: bytes
    answered: bool = False


def parse_refer_to(value: str) -> tuple[str, dict[str, str]]:
    """The user part of a Refer-To URI and its embedded headers (``Replaces``...)."""
    uri = parse_address(value).uri
    headers: dict[str, str] = {}
    if "?" in uri:
        uri, _, query = uri.partition("?")
        for item in query.split("&"):
            name, _, val = item.partition("=")
            headers[unquote(name).lower()] = unquote(val)
    return parse_uri(uri).user or "", headers


def parse_replaces(value: str) -> tuple[str, set[str]]:
    """Call-ID and the two tags of a Replaces value (RFC 3891 section 6.1)."""
    call_id, *params = value.split(";")
    tags = set()
    for p in params:
        name, _, val = p.partition("=")
        if name.strip().lower() in ("to-tag", "from-tag"):
            tags.add(val.strip())
    return call_id.strip(), tags


class Transfers:
    def __init__(self, controller: CallController) -> None:
        self.c = controller
        self._refer_dialog: dict[str, str] = {}  # call key -> dialog the REFER came in
        self._consults: dict[str, _PhoneConsult] = {}  # call key -> the phone's INVITE
        self._held: dict[tuple[str, str], asyncio.Task[Any]] = {}
        self._rated: dict[str, list[MediaLeg]] = {}  # call key -> agent legs in its MOS

    # ------------------------------------------------------------------ what the core needs

    @staticmethod
    def options(config: Any) -> TransferOptions:
        t = config.transfers
        return TransferOptions(
            ring_timeout=t.ring_timeout,
            queue_priority=t.queue_priority,
            external=t.external and bool(config.trunks),
            hold_music=t.hold_music,
        )

    def resolver(self) -> Callable[[str], TransferTarget | str]:
        c = self.c
        opts = self.options(c.config)

        def device(agent: str) -> str | None:
            return c.acd.agent_view(agent).device if c.acd.is_logged_in(agent) else None

        def busy(agent: str) -> str | None:
            state = c.acd.agent_view(agent).state.value
            return None if state == "ready" else state

        return lambda text: X.resolve_target(
            text,
            route=c.directory.target,
            agent_device=device,
            is_agent=c.directory.is_agent,
            external=opts.external,
            agent_busy=busy,
        )

    def control(self, ev: AgentControl) -> ControlResult:
        result, actions = self.c.core.control(ev, self.c.clock())
        log_event(log, "call.control", call_id=ev.key, agent=ev.agent, op=ev.op,
                  via=str(ev.via), status=result.status, reason=result.reason)  # fmt: skip
        self.c._perform(actions)
        return result

    # ------------------------------------------------------------------ the agent's phone

    def _agent_call(self, dialog_id: str) -> tuple[str, str] | None:
        """(call key, agent) when ``dialog_id`` is an agent's leg of a call."""
        owner = self.c._by_dialog.get(dialog_id)
        if owner is None or owner[1] is None:
            return None
        key, leg = owner
        state = self.c.core.calls.get(key)
        if state is None:
            return None
        x = state.transfer
        agent = x.agent if x is not None else state.agent
        if agent is None or leg not in (agent, X.PHONE_LEG):
            return None
        return key, agent

    def on_refer(self, ev: InDialogRequest) -> None:
        owned = self._agent_call(ev.dialog_id)
        if owned is None:
            self.c._respond(ev.request_id, 403, "Forbidden: not an agent's call")
            return
        key, agent = owned
        refer_to = ev.request.headers.get("Refer-To")
        if not refer_to:
            self.c._respond(ev.request_id, 400, "Missing Refer-To")
            return
        try:
            user, headers = parse_refer_to(refer_to)
        except (HeaderError, ValueError):
            self.c._respond(ev.request_id, 400, "Bad Refer-To")
            return
        replaces = headers.get("replaces")
        if replaces is not None:
            if not self._replaces_own_dialog(key, replaces):
                self.c._respond(ev.request_id, 403, "Forbidden: Replaces names no consult call")
                return
            control = AgentControl(key, agent, "complete", via=Via.REFER)
        else:
            control = AgentControl(key, agent, "transfer", user, via=Via.REFER)
        self._refer_dialog[key] = ev.dialog_id
        result, actions = self.c.core.control(control, self.c.clock())
        log_event(log, "call.refer", call_id=key, agent=agent, to=user, status=result.status,
                  reason=result.reason, replaces=replaces is not None)  # fmt: skip
        # 202 before the NOTIFYs the actions send (RFC 3515 section 2.4.4).
        status = result.status if not result.ok else 202
        self.c._respond(ev.request_id, status, result.reason[:100] if not result.ok else None)
        self.c._perform(actions)

    def _replaces_own_dialog(self, key: str, replaces: str) -> bool:
        """Replaces must name one of this call's agent dialogs (the consult call)."""
        call_id, tags = parse_replaces(replaces)
        call = self.c.calls.get(key)
        if call is None:
            return False
        for leg in call.agents.values():
            if leg.dialog_id is None:
                continue
            cid, local, remote = leg.dialog_id.split("|")
            if cid == call_id and (not tags or tags == {local, remote}):
                return True
        return False

    def on_hold_offer(self, dialog_id: str, hold: bool) -> None:
        """The agent's phone held (sendonly/inactive) or resumed the caller."""
        owned = self._agent_call(dialog_id)
        if owned is None or self.c._by_dialog[dialog_id][1] == X.PHONE_LEG:
            return
        key, agent = owned
        state = self.c.core.calls[key]
        x = state.transfer
        if hold == state.held and x is None:
            return
        if hold and x is not None:
            # Holding the caller again while consulting from the phone: the phone goes back
            # to the consulted party (toggle); otherwise the consult just goes on.
            if x.phase == X.XPhase.CONSULTING and x.via == Via.PHONE and x.talking_to == "caller":
                self.control(AgentControl(key, agent, "toggle", via=Via.PHONE))
            return
        self.control(AgentControl(key, agent, "hold" if hold else "resume", via=Via.PHONE))

    def consult_invite(self, ev: IncomingRequest, agent: str, b_number: str) -> bool:
        """An agent's phone dials while connected to a caller: a consult of that call.
        False: not a consult (the INVITE goes the ordinary way)."""
        key = next(
            (k for k, s in self.c.core.calls.items()
             if s.agent == agent and s.phase == "connected" and agent in s.offers),
            None,
        )  # fmt: skip
        if key is None:
            return False
        result, actions = self.c.core.control(
            AgentControl(key, agent, "consult", b_number, via=Via.PHONE), self.c.clock()
        )
        if not result.ok:
            self.c._respond(ev.request_id, result.status if result.status >= 400 else 403,
                            result.reason[:100])  # fmt: skip
            self.c._perform(actions)
            return True
        self.c._respond(ev.request_id, 180, "Ringing")
        self.c._spawn(self._open_consult(key, ev), f"consult-{key}")
        self.c._perform(actions)
        return True

    async def _open_consult(self, key: str, ev: IncomingRequest) -> None:
        try:
            leg = await self.c.media.open_leg()
        except MediaError as exc:
            self.c._respond(ev.request_id, 503, f"Service Unavailable: {exc}"[:100])
            return
        try:
            answer = negotiate(
                parse_sdp(ev.request.body),
                local_address=self.c.media.host,
                local_port=leg.local_port,
                session_id=leg.local_port,
                session_version=self.c._session_version(),
            )
        except (NoCommonCodec, SdpError) as exc:
            await leg.close()
            self.c._respond(ev.request_id, 488, str(exc)[:100])
            return
        apply_sdp(leg, answer)
        pending = _PhoneConsult(ev.request_id, leg, answer.sdp.to_bytes())
        call = self.c.calls.get(key)
        if call is None or key not in self.c.core.calls:
            await leg.close()
            self.c._respond(ev.request_id, 480, "Temporarily Unavailable")
            return
        self._consults[key] = pending
        agent_leg = AgentLeg(X.PHONE_LEG, "phone", leg=leg, answered=True)
        agent_leg.hints = endpoint_hints(ev.request.headers.get("User-Agent"), None)
        call.agents[X.PHONE_LEG] = agent_leg
        state = self.c.core.calls[key]
        x = state.transfer
        if X.PHONE_LEG in state.offers and x is not None:  # answered while the leg opened
            self._answer(key)
            if x.talking_to == X.CONSULT_LEG:
                self.c._perform([A.BridgeAgents(key, X.PHONE_LEG, X.CONSULT_LEG)])

    def on_cancel(self, request_id: str) -> bool:
        """The agent's phone cancelled its consult INVITE: the consult is over."""
        for key, pending in list(self._consults.items()):
            if pending.request_id == request_id and not pending.answered:
                del self._consults[key]
                call = self.c.calls.get(key)
                agent_leg = call.agents.pop(X.PHONE_LEG, None) if call is not None else None
                if agent_leg is not None:
                    self.c.dialer.release(agent_leg)
                self.c.feed(E.AgentGone(key, X.PHONE_LEG, "cancelled"))
                return True
        return False

    def on_dialog(self, request_id: str, dialog_id: str) -> bool:
        """The phone's consult INVITE got its dialog: map it to the call's PHONE_LEG."""
        for key, pending in self._consults.items():
            if pending.request_id == request_id:
                call = self.c.calls.get(key)
                if call is not None and X.PHONE_LEG in call.agents:
                    call.agents[X.PHONE_LEG].dialog_id = dialog_id
                    self.c._by_dialog[dialog_id] = (key, X.PHONE_LEG)
                return True
        return False

    def _answer(self, key: str) -> None:
        pending = self._consults.get(key)
        if pending is None or pending.answered:
            return
        pending.answered = True
        self.c._respond(
            pending.request_id, 200, body=pending.answer, content_type="application/sdp"
        )

    # ------------------------------------------------------------------ the core's actions

    def do_Notify(self, a: A.Notify) -> None:
        dialog = self._refer_dialog.get(a.key)
        if dialog is None:
            return
        state = "terminated;reason=noresource" if a.final else "active;expires=60"
        self.c.ua.dialog_request(
            dialog,
            "NOTIFY",
            body=f"SIP/2.0 {a.status} {a.reason}\r\n".encode(),
            content_type=SIPFRAG,
            headers=[("Event", "refer"), ("Subscription-State", state)],
            now=self.c._loop_now(),
        )
        self.c.sip.transmit()
        if a.final:
            self._refer_dialog.pop(a.key, None)

    def do_AnswerConsult(self, a: A.AnswerConsult) -> None:
        if a.key in self._consults:
            self._answer(a.key)
        # else the phone's leg is still being opened: answered when it is (above).

    def do_RejectConsult(self, a: A.RejectConsult) -> None:
        pending = self._consults.pop(a.key, None)
        if pending is None:
            return
        if not pending.answered:
            self.c._respond(pending.request_id, a.status, a.reason[:100])
            call = self.c.calls.get(a.key)
            if call is not None:
                agent_leg = call.agents.pop(X.PHONE_LEG, None)
                if agent_leg is not None:
                    self.c.dialer.release(agent_leg)

    def do_HoldParty(self, a: A.HoldParty) -> None:
        call = self.c.calls.get(a.key)
        agent_leg = call.agents.get(a.party) if call is not None else None
        if call is None or agent_leg is None or agent_leg.leg is None:
            return
        leg = agent_leg.leg
        try:
            track = self.c.prompts.resolve(a.music, call.language)
        except PromptError:
            track = self.c.prompts.resolve("hold-music", call.language)

        async def loop() -> None:
            try:
                await leg.play([track], loop=True)
            except MediaError:
                return

        self.do_UnholdParty(A.UnholdParty(a.key, a.party))
        self._held[(a.key, a.party)] = self.c._spawn(loop(), f"hold-{a.party}-{a.key}")

    def do_UnholdParty(self, a: A.UnholdParty) -> None:
        task = self._held.pop((a.key, a.party), None)
        if task is not None:
            task.cancel()
        call = self.c.calls.get(a.key)
        agent_leg = call.agents.get(a.party) if call is not None else None
        if agent_leg is not None and agent_leg.leg is not None and not agent_leg.leg.closed:
            agent_leg.leg.stop_playback()

    def quality_leg(self, key: str, leg: MediaLeg, agent: str) -> str | None:
        """The voice-quality leg name for an agent leg bridged to the caller: ``agent`` for
        the first, ``agent:NAME`` for a party the caller was transferred to; None when
        this media leg is watched already (re-bridged after a hold or a failed transfer)."""
        watched = self._rated.setdefault(key, [])
        if any(known is leg for known in watched):
            return None
        watched.append(leg)
        return "agent" if len(watched) == 1 else f"agent:{agent}"

    def forget(self, key: str) -> None:
        """The call is over: what is left of its transfer goes too."""
        self._rated.pop(key, None)
        self._refer_dialog.pop(key, None)
        pending = self._consults.pop(key, None)
        if pending is not None and not pending.answered:
            self.c._respond(pending.request_id, 487, "Request Terminated")
        for k in [k for k in self._held if k[0] == key]:
            self._held.pop(k).cancel()


def transfer_json(state: Any) -> dict[str, Any] | None:
    """The live view of a call's hold or transfer (``GET /api/calls``)."""
    return X.describe(state)


__all__ = ["TEL_DEVICE", "Transfers", "parse_refer_to", "parse_replaces", "transfer_json"]
