"""The call core: every inbound call's path as a state machine, without I/O.

``CallCore`` takes events (``callcore.events``) and the ACD's commands, each with ``now``
(wall-clock seconds), and returns actions (``callcore.actions``) for its executor, plus
``next_deadline()`` / ``tick(now)`` for its timers: the aioquic shape. It decides what
happens to a call; the executor (``vaxel/calls/controller.py``) only carries it out.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from acd import AnnouncePosition, CancelOffer, Channel, LogEvent, OfferCall, Overflow
from acd import Call as AcdCall
from calllog import AGENT_CALL_ID, CallEvent, EventKind, Outcome, jsonable

from . import actions as A
from . import events as E
from . import outbound as O
from . import transfer as X
from .state import Callback, CallState, Offer, OfferPhase, PendingCallback, Phase
from .target import CallbackOptions, QueueOptions, Target

# How long an answered call waits for its ACK while holding its media leg (the UA core
# retransmits the 2xx until 64*T1 = 32 s; a real phone ACKs within a round trip).
ACK_TIMEOUT = 8.0
# Before a BYE that follows Vaxel's last prompt: the phone's jitter buffer still holds its
# final ~100-200 ms, which an immediate BYE cuts off.
HANGUP_GRACE = 0.5
TEL_DEVICE = "tel:"
# The agent's page (the browser softphone): its Answer click is the acceptance, and it has
# no keypad for the accept prompt.
BROWSER_DEVICE = "browser:"
ACCEPT_KEY = "1"
CUSTOMER = "customer"  # the leg a callback dials to the customer, beside the agent's
_RECENT_IDS = 10_000  # ended Call-IDs remembered, so that a reused one gets a fresh key

K = EventKind
Route = Callable[[str], Target | None]


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


class CallCore:
    def __init__(
        self,
        *,
        route: Route,
        queue_options: Callable[[str], QueueOptions] = lambda q: QueueOptions(),
        hangup_grace: float = HANGUP_GRACE,
        ack_timeout: float = ACK_TIMEOUT,
        next_open: Callable[[str, float], float | None] = lambda queue, now: now,
        outbound: O.OutboundPolicy | None = None,
        presence: O.AgentPresence | None = None,
        calendar_open: Callable[[str, float], bool] = lambda calendar, now: True,
        language: str = "sv",
        transfer_target: Callable[[str], X.TransferTarget | str] | None = None,
        transfer_options: X.TransferOptions | None = None,
    ) -> None:
        self.route = route
        # Calls outside the queues (callcore.outbound): the dialling policy, what the
        # executor knows of agents, the direct numbers' calendars.
        self.outbound = outbound or O.OutboundPolicy()
        self.presence: O.AgentPresence = presence or O.NoPresence()
        self.calendar_open = calendar_open
        self.outbound_language = language
        self.queue_options = queue_options
        # When the queue is (or next becomes) open, from its calendar: ``now`` if open now.
        self.next_open = next_open
        self.hangup_grace = hangup_grace
        self.ack_timeout = ack_timeout
        # What an agent's transfer or consult target names (callcore.transfer).
        self.transfer_target = transfer_target or (
            lambda text: X.resolve_target(
                text, route=route, agent_device=lambda a: None, is_agent=lambda a: False,
                external=False,
            )
        )  # fmt: skip
        self.transfer_options = transfer_options or X.TransferOptions()
        self.calls: dict[str, CallState] = {}
        self.accepting = True
        self._timers: list[tuple[float, int, str]] = []
        self._seq = 0
        self._recent: deque[str] = deque(maxlen=_RECENT_IDS)
        # Callbacks between attempts: (when, seq, the next attempt's callback, queue, b-number).
        self._retries: list[tuple[float, int, Callback, str, str, str]] = []
        self.pending_callbacks: dict[tuple[str, str], str] = {}  # (queue, number) -> key
        self._recent_set: set[str] = set()

    # ------------------------------------------------------------------ timers

    def _next_call_deadline(self) -> float | None:
        while self._timers:
            at, _, key = self._timers[0]
            call = self.calls.get(key)
            if call is not None and call.deadline == at:
                return at
            heapq.heappop(self._timers)  # stale: the call moved on or is gone
        return None

    def next_deadline(self) -> float | None:
        times = [t for t in (self._next_call_deadline(), self._next_retry()) if t is not None]
        return min(times, default=None)

    def _next_retry(self) -> float | None:
        return self._retries[0][0] if self._retries else None

    def tick(self, now: float) -> list[A.Action]:
        out: list[A.Action] = []
        while (due := self._next_call_deadline()) is not None and due <= now:
            _, _, key = heapq.heappop(self._timers)
            call = self.calls[key]
            call.deadline = None
            self._expired(call, now, out)
        while self._retries and self._retries[0][0] <= now:
            _, _, cb, queue, b_number, language = heapq.heappop(self._retries)
            self._callback_attempt(cb, queue, b_number, language, now, out)
        return out

    def _arm(self, call: CallState, at: float | None) -> None:
        call.deadline = at
        if at is not None:
            self._seq += 1
            heapq.heappush(self._timers, (at, self._seq, call.key))

    def _expired(self, call: CallState, now: float, out: list[A.Action]) -> None:
        if call.kind != O.CallKind.INBOUND and O.expired(self, call, now, out):
            return
        if call.phase == Phase.CONNECTED and X.on_expired(self, call, now, out):
            return
        if call.phase == Phase.RINGING:
            out.append(A.Answer(call.key))
        elif call.phase == Phase.ANSWERED:
            # No BYE before the ACK (RFC 3261 section 15): the transaction gives up on
            # its own; the call's media is released now.
            call.caller_gone = True
            self._end(call, now, out, cause=Outcome.NO_ACK, by="caller", reason="no ACK")
        elif call.phase == Phase.ENDING:
            self._end(call, now, out, by="server", reason=call.reason or "flow ended")
        elif call.phase == Phase.DIALING:
            self._attempt_failed(call, now, out, "the customer did not answer")

    # ------------------------------------------------------------------ new calls

    def invite(self, ev: E.Invite, now: float) -> list[A.Action]:
        if not self.accepting:
            return [
                A.Respond(ev.request_id, 503, "Service Unavailable: shutting down", retry_after=30)
            ]
        if ev.target is None:
            reason = f"Not Found: no number {ev.b_number!r} in the number plan"
            return [A.Respond(ev.request_id, 404, reason[:100])]
        if ev.sdp_error is not None:
            return [A.Respond(ev.request_id, 400, f"Bad SDP: {ev.sdp_error}"[:100])]
        call = CallState(
            key=self._new_key(ev.sip_call_id),
            request_id=ev.request_id,
            sip_call_id=ev.sip_call_id,
            a_number=ev.a_number,
            b_number=ev.b_number,
            language=ev.language,
            target=ev.target,
            started_at=now,
            queue=ev.target.queue,
        )
        if ev.target.direct is not None:
            O.direct_call(call)
        self.calls[call.key] = call
        return [A.OpenCallerLeg(call.key)]

    def place(self, ev: E.PlaceCall, now: float) -> list[A.Action]:
        """An agent's phone dialled a number outside the plan (``callcore.outbound``)."""
        if not self.accepting:
            return [
                A.Respond(ev.request_id, 503, "Service Unavailable: shutting down", retry_after=30)
            ]
        return O.place(self, ev, now)

    def dial(self, ev: E.Dial, now: float) -> tuple[O.Refusal | None, list[A.Action]]:
        """Click-to-call (``callcore.outbound``): a refusal, or the actions to carry out."""
        if not self.accepting:
            return O.Refusal(503, "Service Unavailable: shutting down"), []
        return O.dial(self, ev, now)

    def _new_key(self, sip_call_id: str) -> str:
        # A Call-ID reused with a new From tag is a new call (RFC 3261 12.1): the ACD and
        # the call log must see a new id, not "already known".
        key, n = sip_call_id, 1
        while key in self.calls or key in self._recent_set:
            n += 1
            key = f"{sip_call_id};{n}"
        return key

    # ------------------------------------------------------------------ agents' requests

    def control(self, ev: X.AgentControl, now: float) -> tuple[X.ControlResult, list[A.Action]]:
        """An agent's hold, transfer or consult request (API or phone): the answer for the
        requester and the actions (``callcore.transfer``)."""
        return X.control(self, ev, now)

    # ------------------------------------------------------------------ call events

    def handle(self, ev: E.CallInput, now: float) -> list[A.Action]:
        call = self.calls.get(ev.key)
        if call is None or call.phase == Phase.ENDED:
            return []
        out: list[A.Action] = []
        handler = _HANDLERS[type(ev)]
        if call.kind != O.CallKind.INBOUND:  # outbound, click-to-call, direct numbers
            handler = O.HANDLERS.get(type(ev), handler)
        handler(self, call, ev, now, out)
        return out

    def _leg_ready(self, call: CallState, ev: E.LegReady, now: float, out: list[A.Action]) -> None:
        if ev.error is not None:
            out.append(
                A.Respond(
                    call.request_id,
                    ev.status,
                    ev.error[:100],
                    retry_after=5 if ev.status == 503 else None,
                )
            )
            call.caller_gone = True
            self._end(call, now, out, cause=Outcome.REJECTED, by="server", reason=ev.error)
            return
        t = call.target
        self._log(call, K.INCOMING, now, out, service=t.service, queue=t.queue)
        if t.ring_seconds > 0:
            out.append(A.Respond(call.request_id, 180, "Ringing"))
            call.phase = Phase.RINGING
            self._arm(call, now + t.ring_seconds)
        else:
            out.append(A.Answer(call.key))

    def _answer_sent(
        self, call: CallState, ev: E.AnswerSent, now: float, out: list[A.Action]
    ) -> None:
        if not ev.ok:
            call.caller_gone = True
            self._end(call, now, out, cause=Outcome.CANCELLED, by="caller", reason="cancelled")
            return
        call.phase = Phase.ANSWERED
        self._arm(call, now + self.ack_timeout)

    def _acked(self, call: CallState, ev: E.CallerAcked, now: float, out: list[A.Action]) -> None:
        if call.phase != Phase.ANSWERED:
            return
        self._arm(call, None)
        if ev.error is not None:
            self._end(call, now, out, cause=Outcome.ERROR, by="server", reason=ev.error)
            return
        t = call.target
        if t.service is not None:
            self._service(call, t.service, t.queue, out, agent=t.agent)
        else:
            assert t.queue is not None
            call.phase = Phase.FLOW
            out.append(A.RunFlow(call.key, call.b_number, t.queue))

    def _caller_gone(
        self, call: CallState, ev: E.CallerGone, now: float, out: list[A.Action]
    ) -> None:
        call.caller_gone = True
        before_answer = call.phase in (Phase.SETUP, Phase.RINGING, Phase.ANSWERED)
        cause = Outcome.CANCELLED if before_answer and ev.why == "cancelled" else None
        self._end(call, now, out, cause=cause, by="caller", reason=f"caller {ev.why}")

    def _flow_finished(
        self, call: CallState, ev: E.FlowFinished, now: float, out: list[A.Action]
    ) -> None:
        if call.phase != Phase.FLOW:
            return
        if ev.queue:
            call.queue = ev.queue
        if ev.service is not None:  # a menu choice or the voicemail step
            self._service(call, ev.service, call.queue, out)
        elif ev.kind == "queue":
            self._enqueue(call, ev.priority, now, out)
        else:  # closed, or the flow hung up: Vaxel ends the call after its last prompt
            self._finish_dialogue(call, now, f"flow ended: {ev.kind}")

    def _service_finished(
        self, call: CallState, ev: E.ServiceFinished, now: float, out: list[A.Action]
    ) -> None:
        if call.phase == Phase.SERVICE:
            self._finish_dialogue(call, now, "service ended")

    def _dialogue_failed(
        self, call: CallState, ev: E.DialogueFailed, now: float, out: list[A.Action]
    ) -> None:
        self._end(call, now, out, cause=Outcome.ERROR, by="server", reason=ev.error)

    def _note(self, call: CallState, ev: E.Note, now: float, out: list[A.Action]) -> None:
        self._log(call, ev.kind, now, out, **ev.data)

    def _media_closed(
        self, call: CallState, ev: E.MediaClosed, now: float, out: list[A.Action]
    ) -> None:
        if call.phase != Phase.RELEASING:
            return
        self._log(
            call,
            K.HANGUP,
            now,
            out,
            reason=call.reason or "ended",
            cause=call.cause,
            ended_by=call.ended_by,
            rtp=ev.rtp,
            mos=ev.mos,
            quality=ev.quality,
        )
        call.phase = Phase.ENDED
        out.append(A.Forget(call.key))
        del self.calls[call.key]
        self._recent.append(call.key)
        self._recent_set.add(call.key)
        if len(self._recent_set) > _RECENT_IDS:
            self._recent_set = set(self._recent)

    # ------------------------------------------------------------------ agents' legs

    def _agent_answered(
        self, call: CallState, ev: E.AgentAnswered, now: float, out: list[A.Action]
    ) -> None:
        if call.phase == Phase.CONNECTED and X.owns(call, ev.agent):
            X.on_answered(self, call, ev.agent, now, out)
            return
        offer = call.offers.get(ev.agent)
        if ev.agent == CUSTOMER and offer is not None and call.phase == Phase.DIALING:
            offer.phase = OfferPhase.CONNECTED
            call.phase = Phase.CONNECTED
            self._arm(call, None)
            out.append(A.BridgeAgents(call.key, call.agent or "", CUSTOMER))
            self._log(call, K.CALLBACK_CONNECTED, now, out)
            if call.callback is not None:
                self.pending_callbacks.pop((call.queue or "", call.callback.number), None)
                out.append(A.DropCallback(call.callback.origin))
            return
        waiting = call.phase in (Phase.QUEUED, Phase.BOOKING)
        if offer is None or offer.phase != OfferPhase.RINGING or not waiting:
            out.append(A.DropAgent(call.key, ev.agent))  # answered after the call moved on
            return
        assert call.queue is not None
        opts = self.queue_options(call.queue)
        on_tel = offer.device.startswith(TEL_DEVICE)
        prompt = opts.accept_prompt if opts.accept_prompt is not None else on_tel
        prompt = prompt and not offer.device.startswith(BROWSER_DEVICE)
        if prompt and call.callback is None:  # a callback's agent hears its briefing instead
            # A mobile's voicemail answers too: the agent confirms with a key first.
            offer.phase = OfferPhase.ACCEPTING
            self._log(call, K.AGENT_ACCEPT_PROMPT, now, out, agent=ev.agent)
            out.append(A.PromptAgent(call.key, ev.agent, opts.accept_message, opts.accept_timeout))
            return
        offer.phase = OfferPhase.CLAIMED
        out.append(A.AcdAnswered(call.key, ev.agent))

    def _agent_keyed(
        self, call: CallState, ev: E.AgentKeyed, now: float, out: list[A.Action]
    ) -> None:
        offer = call.offers.get(ev.agent)
        if offer is None or offer.phase != OfferPhase.ACCEPTING:
            return
        if ev.digit == ACCEPT_KEY:
            offer.phase = OfferPhase.CLAIMED
            out.append(A.AcdAnswered(call.key, ev.agent))
            return
        why = "no key on the accept prompt" if ev.digit is None else f"key {ev.digit} pressed"
        self._log(call, K.AGENT_DECLINED, now, out, agent=ev.agent, why=why)
        del call.offers[ev.agent]
        out.append(A.DropAgent(call.key, ev.agent))
        # No key counts as no answer (SPEC S4: it adds to the unanswered offers).
        out.append(A.AcdOfferFailed(call.key, ev.agent, why, rejected=True))

    def _agent_failed(
        self, call: CallState, ev: E.AgentOfferFailed, now: float, out: list[A.Action]
    ) -> None:
        if call.phase == Phase.CONNECTED and X.owns(call, ev.agent):
            X.on_failed(self, call, ev.agent, ev.reason, now, out)
            return
        if ev.agent == CUSTOMER and call.phase == Phase.DIALING:
            self._attempt_failed(call, now, out, f"the customer's phone: {ev.reason}")
            return
        offer = call.offers.pop(ev.agent, None)
        if offer is None:
            return
        out.append(A.DropAgent(call.key, ev.agent))
        out.append(A.AcdOfferFailed(call.key, ev.agent, ev.reason, rejected=ev.rejected))

    def _agent_gone(
        self, call: CallState, ev: E.AgentGone, now: float, out: list[A.Action]
    ) -> None:
        if call.phase == Phase.CONNECTED and X.owns(call, ev.agent):
            X.on_gone(self, call, ev.agent, ev.why, now, out)
            return
        briefing = call.phase in (Phase.BRIEFING, Phase.DIALING)
        if call.callback is not None and briefing and ev.agent in (CUSTOMER, call.agent):
            self._attempt_failed(call, now, out, f"{ev.agent} {ev.why} before the bridge")
            return
        if ev.agent == CUSTOMER and call.phase == Phase.CONNECTED:
            self._end(call, now, out, by="caller", reason=f"customer {ev.why}")
            return
        if call.agent == ev.agent and call.phase == Phase.CONNECTED:
            assert call.queue is not None
            if call.callback is None and self.queue_options(call.queue).survey:
                self._survey(call, ev.agent, now, out)
                return
            self._end(call, now, out, by="agent", reason=f"agent {ev.why}")
            return
        offer = call.offers.pop(ev.agent, None)
        if offer is not None:
            out.append(A.DropAgent(call.key, ev.agent))
            out.append(A.AcdOfferFailed(call.key, ev.agent, f"agent {ev.why}"))

    def _survey(self, call: CallState, agent: str, now: float, out: list[A.Action]) -> None:
        """The agent hung up first: they go to wrap-up while the caller answers the survey."""
        call.in_acd = False
        call.ended_by, call.reason = "agent", "agent hung up"
        out.append(A.AcdEnded(call.key, "agent hung up"))
        call.offers.pop(agent, None)
        out.append(A.Unbridge(call.key))
        out.append(A.DropAgent(call.key, agent))
        call.phase = Phase.SERVICE
        out.append(A.RunService(call.key, "survey", call.queue, agent))

    # ------------------------------------------------------------------ callbacks

    def _caller_keyed(
        self, call: CallState, ev: E.CallerKeyed, now: float, out: list[A.Action]
    ) -> None:
        if call.phase != Phase.QUEUED or call.queue is None or call.callback is not None:
            return
        opts = self.queue_options(call.queue).callback
        if opts is None or ev.digit != opts.key:
            return
        # The caller keeps the place while booking; an agent who answers meanwhile wins.
        call.phase = Phase.BOOKING
        self._log(call, K.CALLBACK_BOOKING, now, out)
        out.append(A.StopQueueMusic(call.key))
        out.append(A.RunService(call.key, "callback-booking", call.queue))

    def _callback_booked(
        self, call: CallState, ev: E.CallbackBooked, now: float, out: list[A.Action]
    ) -> None:
        if call.phase != Phase.BOOKING:
            return
        assert call.queue is not None
        if ev.number is None:
            call.phase = Phase.QUEUED  # nothing booked: back to waiting, same place
            self._queue_music(call, out)
            return
        existing = self.pending_callbacks.get((call.queue, ev.number))
        if existing is not None:
            # At most one pending callback per number and queue: that one stands.
            self._log(call, K.CALLBACK_REQUESTED, now, out, number=ev.number,
                      callback=existing, duplicate=True)  # fmt: skip
        else:
            cb = Callback(
                origin=call.key,
                number=ev.number,
                attempt=1,
                arrived_at=call.enqueued_at if call.enqueued_at is not None else now,
                priority=call.priority,
            )
            key = _attempt_key(cb)
            self._log(call, K.CALLBACK_REQUESTED, now, out, number=ev.number, callback=key)
            call.in_acd = False
            out.append(A.AcdWithdrawn(call.key, f"callback {key} booked"))
            self._callback_attempt(cb, call.queue, call.b_number, call.language, now, out)
        self._service(call, "callback-confirm", call.queue, out)

    def _callback_attempt(
        self, cb: Callback, queue: str, b_number: str, language: str, now: float,
        out: list[A.Action],
    ) -> None:  # fmt: skip
        """A callback attempt enters the queue in the place of the call that booked it."""
        if self._closed_for(cb, queue, b_number, language, now, out):
            return
        key = _attempt_key(cb)
        attempt = CallState(
            key=key,
            request_id="",
            sip_call_id=key,
            a_number=cb.number,
            b_number=b_number,
            language=language,
            target=Target(queue=queue),
            started_at=now,
            queue=queue,
            phase=Phase.QUEUED,
            enqueued_at=now,
            in_acd=True,
            caller_gone=True,  # nobody is on the line until the customer answers
            callback=cb,
            priority=cb.priority,
        )
        self.calls[key] = attempt
        self.pending_callbacks[(queue, cb.number)] = key
        out.append(A.SaveCallback(PendingCallback(cb, queue, b_number, language)))
        self._log(attempt, K.CALLBACK_ATTEMPT, now, out, origin=cb.origin, number=cb.number,
                  attempt=cb.attempt)  # fmt: skip
        out.append(
            A.AcdArrived(
                AcdCall(
                    key,
                    queue,
                    cb.priority,
                    arrived_at=cb.arrived_at,
                    a_number=cb.number,
                    b_number=b_number,
                    channel=Channel.CALLBACK,
                )  # fmt: skip
            )
        )

    def _agent_briefed(
        self, call: CallState, ev: E.AgentBriefed, now: float, out: list[A.Action]
    ) -> None:
        if call.phase != Phase.BRIEFING or call.callback is None or ev.agent != call.agent:
            return
        assert call.queue is not None
        opts = self.queue_options(call.queue).callback or CallbackOptions()
        call.phase = Phase.DIALING
        device = f"{TEL_DEVICE}{call.callback.number}"
        call.offers[CUSTOMER] = Offer(CUSTOMER, device)
        out.append(A.RingAgent(call.key, CUSTOMER, device))
        self._arm(call, now + opts.ring_timeout)

    def _closed_for(
        self, cb: Callback, queue: str, b_number: str, language: str, now: float,
        out: list[A.Action],
    ) -> bool:  # fmt: skip
        """While the queue is closed a callback is held until it opens (or cancelled)."""
        opens = self.next_open(queue, now)
        if opens is not None and opens <= now:
            return False
        opts = self.queue_options(queue).callback or CallbackOptions()
        event = CallEvent(
            cb.origin, K.CALLBACK_HELD, at=_at(now), queue=queue, a_number=cb.number,
            b_number=b_number, data={"until": opens, "attempt": cb.attempt},
        )  # fmt: skip
        if opts.when_closed == "cancel" or opens is None:
            out.append(A.Log(replace(event, kind=K.CALLBACK_CANCELLED, data={"why": "closed"})))
            self.pending_callbacks.pop((queue, cb.number), None)
            out.append(A.DropCallback(cb.origin))
            return True
        out.append(A.Log(event))
        self._seq += 1
        heapq.heappush(self._retries, (opens, self._seq, cb, queue, b_number, language))
        self.pending_callbacks[(queue, cb.number)] = _attempt_key(cb)
        out.append(A.SaveCallback(PendingCallback(cb, queue, b_number, language, opens)))
        return True

    def _by_sms(self, call: CallState) -> bool:
        opts = self.queue_options(call.queue or "").callback
        return opts is not None and opts.sms_to_phone_agents

    def _sms_result(
        self, call: CallState, ev: E.SmsResult, now: float, out: list[A.Action]
    ) -> None:
        offer = call.offers.get(ev.agent)
        if offer is None or call.phase != Phase.QUEUED:
            return
        if ev.error is None:
            out.append(A.AcdAnswered(call.key, ev.agent))
            return
        del call.offers[ev.agent]
        out.append(A.AcdOfferFailed(call.key, ev.agent, f"failed: SMS: {ev.error}"))

    def _attempt_failed(self, call: CallState, now: float, out: list[A.Action], why: str) -> None:
        """The customer was not reached: the next attempt later, or the callback failed."""
        cb = call.callback
        assert cb is not None and call.queue is not None
        opts = self.queue_options(call.queue).callback or CallbackOptions()
        if cb.attempt < opts.attempts:
            nxt = replace(cb, attempt=cb.attempt + 1)
            at = now + opts.retry_interval
            self._log(call, K.CALLBACK_RETRY, now, out, attempt=cb.attempt, reason=why,
                      next_at=at, next=_attempt_key(nxt))  # fmt: skip
            self._seq += 1
            heapq.heappush(
                self._retries, (at, self._seq, nxt, call.queue, call.b_number, call.language)
            )
            self.pending_callbacks[(call.queue, cb.number)] = _attempt_key(nxt)
            out.append(
                A.SaveCallback(PendingCallback(nxt, call.queue, call.b_number, call.language, at))
            )
        else:
            self._log(
                call, K.CALLBACK_FAILED, now, out, attempts=cb.attempt, reason=why, origin=cb.origin
            )
            self.pending_callbacks.pop((call.queue, cb.number), None)
            out.append(A.DropCallback(cb.origin))
        self._end(call, now, out, by="server", reason=why)

    # ------------------------------------------------------------------ ACD commands

    def on_acd(self, commands: Iterable[object], now: float) -> list[A.Action]:
        """Carry the ACD's commands over to the calls they concern."""
        out: list[A.Action] = []
        for cmd in commands:
            if isinstance(cmd, LogEvent):
                self._acd_log(cmd, out)
            elif isinstance(cmd, OfferCall):
                self._offer(cmd, now, out)
            elif isinstance(cmd, CancelOffer):
                call = self.calls.get(cmd.call.id)
                offer = call.offers.get(cmd.agent) if call is not None else None
                if call is not None and offer is not None and offer.phase != OfferPhase.CONNECTED:
                    del call.offers[cmd.agent]
                    out.append(A.DropAgent(call.key, cmd.agent))
            elif isinstance(cmd, Overflow):
                self._overflow(cmd, now, out)
            elif isinstance(cmd, AnnouncePosition):
                call = self.calls.get(cmd.call.id)
                if call is not None and call.phase == Phase.QUEUED:
                    wait = None if cmd.estimated_wait is None else round(cmd.estimated_wait, 1)
                    self._log(
                        call, K.ANNOUNCED, now, out, position=cmd.position, estimated_wait=wait
                    )
                    cb = self.queue_options(call.queue or "").callback
                    offer_cb = (
                        cb is not None
                        and cb.offer_after is not None
                        and cmd.estimated_wait is not None
                        and cmd.estimated_wait > cb.offer_after
                    )
                    out.append(A.Announce(call.key, cmd.position, cmd.estimated_wait, offer_cb))
        return out

    def _acd_log(self, cmd: LogEvent, out: list[A.Action]) -> None:
        call = self.calls.get(cmd.call_id) if cmd.call_id else None
        out.append(
            A.Log(
                CallEvent(
                    cmd.call_id or AGENT_CALL_ID,
                    cmd.kind,
                    at=_at(cmd.at),
                    queue=cmd.queue,
                    agent=cmd.agent,
                    a_number=call.a_number if call else None,
                    b_number=call.b_number if call else None,
                    data=jsonable(cmd.data),
                )
            )
        )
        if call is not None and cmd.kind == K.ANSWERED and cmd.agent is not None:
            self._connect(call, cmd.agent, cmd.at, out)

    def _offer(self, cmd: OfferCall, now: float, out: list[A.Action]) -> None:
        call = self.calls.get(cmd.call.id)
        if call is None or call.phase not in (Phase.QUEUED, Phase.BOOKING):
            out.append(A.AcdOfferFailed(cmd.call.id, cmd.agent, "call gone"))
            return
        cb = call.callback
        if cb is not None and call.queue is not None:
            opens = self.next_open(call.queue, now)
            if opens is None or opens > now:  # the queue closed while it waited
                call.in_acd = False  # withdrawing it also ends the ACD's offer to the agent
                out.append(A.AcdWithdrawn(call.key, "queue closed"))
                held = replace(cb, restarts=cb.restarts + 1)
                self._closed_for(held, call.queue, call.b_number, call.language, now, out)
                self._end(call, now, out, by="server", reason="queue closed: callback held")
                return
        call.offers[cmd.agent] = Offer(cmd.agent, cmd.device)
        opts = self.queue_options(call.queue or "").callback
        if (
            cb is not None
            and cmd.device.startswith(TEL_DEVICE)
            and opts
            and opts.sms_to_phone_agents
        ):
            # An agent on a phone number gets the number by SMS and calls back themselves.
            call.offers[cmd.agent].phase = OfferPhase.CLAIMED
            text = _SMS_TEXT.get(call.language, _SMS_TEXT["en"]).format(
                queue=call.queue, number=cb.number
            )
            out.append(A.SendSms(call.key, cmd.agent, cmd.device[len(TEL_DEVICE) :], text))
            return
        out.append(A.RingAgent(call.key, cmd.agent, cmd.device))

    def _overflow(self, cmd: Overflow, now: float, out: list[A.Action]) -> None:
        call = self.calls.get(cmd.call.id)
        if call is None:
            return
        if cmd.internal:
            call.queue = cmd.to_queue
            if call.phase == Phase.QUEUED:
                self._queue_music(call, out)
            return
        # The target is outside the ACD: voicemail of the queue, or a number of the plan.
        call.in_acd = False
        out.append(A.StopQueueMusic(call.key))
        for offer in list(call.offers):
            out.append(A.DropAgent(call.key, offer))
        call.offers.clear()
        target = cmd.to_queue
        self._log(call, K.OVERFLOW_ROUTED, now, out, to=target, reason=cmd.reason)
        if target == "voicemail":
            self._service(call, "voicemail", call.queue, out)
            return
        number = target.removeprefix("number:")
        routed = self.route(number)
        if routed is None:
            self._service(call, "goodbye", call.queue, out)
        elif routed.service is not None:
            self._service(call, routed.service, routed.queue or call.queue, out, agent=routed.agent)
        else:
            assert routed.queue is not None
            call.queue = routed.queue
            call.b_number = number
            call.phase = Phase.FLOW
            out.append(A.RunFlow(call.key, number, routed.queue))

    def _connect(self, call: CallState, agent: str, now: float, out: list[A.Action]) -> None:
        offer = call.offers.get(agent)
        if offer is None or call.phase not in (Phase.QUEUED, Phase.BOOKING):
            return
        offer.phase = OfferPhase.CONNECTED
        call.agent = agent
        call.connected_at = now
        if call.callback is not None and offer.device.startswith(TEL_DEVICE) and self._by_sms(call):
            call.phase = Phase.CONNECTED
            self._log(call, K.CALLBACK_SMS_SENT, now, out, agent=agent, to=offer.device)
            self.pending_callbacks.pop((call.queue or "", call.callback.number), None)
            out.append(A.DropCallback(call.callback.origin))
            self._end(call, now, out, by="server", reason="the number was sent to the agent by SMS")
            return
        if call.callback is not None:
            # The agent first, told it is a callback and the number; then the customer.
            call.phase = Phase.BRIEFING
            out.append(A.BriefAgent(call.key, agent, ("callback-agent",), call.callback.number))
            return
        if call.phase == Phase.BOOKING:
            out.append(A.StopDialogue(call.key))  # an agent is free: no need to book
        call.phase = Phase.CONNECTED
        out.append(A.StopQueueMusic(call.key))
        out.append(A.Bridge(call.key, agent))
        self._log(call, K.BRIDGED, now, out)

    def restore_callbacks(self, pending: list[PendingCallback], now: float) -> list[A.Action]:
        """Callbacks stored before a restart (or a crash): each next attempt now or when due."""
        out: list[A.Action] = []
        for p in pending:
            if p.next_at is not None and p.next_at > now:
                self._seq += 1
                heapq.heappush(
                    self._retries, (p.next_at, self._seq, p.callback, p.queue, p.b_number,
                                    p.language),
                )  # fmt: skip
                self.pending_callbacks[(p.queue, p.callback.number)] = _attempt_key(p.callback)
            else:  # due, or it was under way when the server stopped: take it up again
                cb = replace(p.callback, restarts=p.callback.restarts + 1)
                self._callback_attempt(cb, p.queue, p.b_number, p.language, now, out)
        return out

    # ------------------------------------------------------------------ shutdown

    def shutdown(self, now: float) -> list[A.Action]:
        """Stop taking calls and end every live one."""
        self.accepting = False
        out: list[A.Action] = []
        for call in list(self.calls.values()):
            if call.phase not in (Phase.RELEASING, Phase.ENDED):
                self._end(
                    call, now, out, cause=Outcome.SHUTDOWN, by="server", reason="server shutdown"
                )
        return out

    # ------------------------------------------------------------------ helpers

    def _service(
        self,
        call: CallState,
        service: str,
        queue: str | None,
        out: list[A.Action],
        *,
        agent: str | None = None,
    ) -> None:
        call.phase = Phase.SERVICE
        call.queue = queue or call.queue
        out.append(A.RunService(call.key, service, call.queue, agent))

    def _enqueue(self, call: CallState, priority: int, now: float, out: list[A.Action]) -> None:
        assert call.queue is not None
        call.phase = Phase.QUEUED
        call.enqueued_at = now
        call.priority = priority
        call.in_acd = True
        self._queue_music(call, out)
        out.append(
            A.AcdArrived(
                AcdCall(
                    call.key, call.queue, priority, a_number=call.a_number, b_number=call.b_number
                )
            )
        )

    def _queue_music(self, call: CallState, out: list[A.Action]) -> None:
        assert call.queue is not None
        opts = self.queue_options(call.queue)
        listen = opts.callback is not None
        out.append(A.PlayQueueMusic(call.key, opts.queue_message, opts.hold_music, listen))

    def _finish_dialogue(self, call: CallState, now: float, reason: str) -> None:
        call.phase = Phase.ENDING
        call.reason = reason
        self._arm(call, now + self.hangup_grace)

    def _end(
        self,
        call: CallState,
        now: float,
        out: list[A.Action],
        *,
        by: str,
        reason: str,
        cause: str | None = None,
    ) -> None:
        """Whatever ended the call: tell the ACD, drop agents, hang up, release media."""
        if call.phase in (Phase.RELEASING, Phase.ENDED):
            return
        if call.kind != O.CallKind.INBOUND:
            O.ending(self, call, now, out, by)
        X.release(call, out)  # an agent held busy by a direct transfer is free again
        if call.phase in (Phase.QUEUED, Phase.BOOKING):
            out.append(A.StopQueueMusic(call.key))
        # A call the agent ended before the survey stays ended by the agent.
        call.cause, call.ended_by, call.reason = cause, call.ended_by or by, reason
        if call.in_acd:
            call.in_acd = False
            if call.phase in (Phase.CONNECTED, Phase.BRIEFING, Phase.DIALING):
                who = {"agent": "agent hung up", "caller": "caller hung up"}.get(by, reason)
                out.append(A.AcdEnded(call.key, who))
            else:
                out.append(A.AcdAbandoned(call.key))
        if not call.caller_gone:
            out.append(A.HangUpCaller(call.key))
            call.caller_gone = True
        talking = call.agent if call.phase == Phase.CONNECTED else None
        call.phase = Phase.RELEASING
        self._arm(call, None)
        # The media figures (both legs) are read before the agent's leg goes.
        out.append(A.ReleaseMedia(call.key))
        for agent in list(call.offers):
            out.append(self._drop_after_end(call, agent, by, talking))
        call.offers.clear()

    def _drop_after_end(
        self, call: CallState, agent: str, by: str, talking: str | None
    ) -> A.DropAgent:
        """The agent's leg after the call: an agent on a phone number whom the caller left
        on the line is asked for the classification by keypad first (SPEC S4)."""
        offer = call.offers[agent]
        if by == "caller" and agent == talking and offer.device.startswith("tel:"):
            opts = self.queue_options(call.queue or "")
            if opts.keypad_codes:
                return A.DropAgent(call.key, agent, opts.keypad_codes, opts.keypad_timeout)
        return A.DropAgent(call.key, agent)

    def _log(
        self, call: CallState, kind: str, now: float, out: list[A.Action], **data: Any
    ) -> None:
        agent = data.pop("agent", None) or call.agent
        out.append(
            A.Log(
                CallEvent(
                    call.key,
                    str(kind),
                    at=_at(now),
                    queue=call.queue,
                    agent=agent,
                    a_number=call.a_number,
                    b_number=call.b_number,
                    data=jsonable(data) or None,
                )
            )
        )


_SMS_TEXT = {
    "sv": "Återuppringning från kön {queue}: ring {number}",
    "en": "Callback from queue {queue}: call {number}",
}


def _attempt_key(cb: Callback) -> str:
    again = f".{cb.restarts}" if cb.restarts else ""
    return f"{cb.origin};cb{cb.attempt}{again}"


_Handler = Callable[[CallCore, CallState, Any, float, list[A.Action]], None]
_HANDLERS: dict[type, _Handler] = {
    E.LegReady: CallCore._leg_ready,
    E.AnswerSent: CallCore._answer_sent,
    E.CallerAcked: CallCore._acked,
    E.CallerGone: CallCore._caller_gone,
    E.FlowFinished: CallCore._flow_finished,
    E.ServiceFinished: CallCore._service_finished,
    E.DialogueFailed: CallCore._dialogue_failed,
    E.Note: CallCore._note,
    E.MediaClosed: CallCore._media_closed,
    E.AgentAnswered: CallCore._agent_answered,
    E.AgentRinging: lambda core, call, ev, now, out: None,  # only outbound calls relay it
    E.AgentKeyed: CallCore._agent_keyed,
    E.AgentOfferFailed: CallCore._agent_failed,
    E.AgentGone: CallCore._agent_gone,
    E.CallerKeyed: CallCore._caller_keyed,
    E.CallbackBooked: CallCore._callback_booked,
    E.AgentBriefed: CallCore._agent_briefed,
    E.SmsResult: CallCore._sms_result,
}
