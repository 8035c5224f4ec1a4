"""A virtual-time world for the call core: the real ACD beside it, and a scripted
executor that carries out the core's actions the way ``vaxel/calls/controller.py`` does
(synchronously, one FIFO), with the results the test chooses."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from acd import Acd, AgentConfig, AnswerGroup, GroupMembership, QueueConfig
from acd.errors import AcdError
from callcore import CallCore, OutboundPolicy, QueueOptions, Target
from callcore import actions as A
from callcore import events as E
from callcore import transfer as X
from calllog import CallEvent, CallSummary, SummaryFold

T0 = 1_800_000_000.0

PLAN = {
    "100": Target(queue="q"),
    "101": Target(queue="q2"),
    "102": Target(queue="q", ring_seconds=2.0),
    "190": Target(service="remote-login"),
    "191": Target(service="prompt-recording"),
    "192": Target(service="voicemail", queue="q"),
    "199": Target(queue="closedq"),
    "150": Target(direct="a1", calendar="office", ring_timeout=20.0),
    "151": Target(direct="a1", voicemail=False),
}
OUTBOUND = OutboundPolicy(
    enabled=True,
    allowed_prefixes=("0",),
    blocked_prefixes=("0900",),
    caller_id="0812340000",
    queue_prefixes={"*1": "q2"},
    queue_caller_ids={"q": "0812341111", "q2": "0812342222"},
    queue_wrap_up={"q": 15.0},
    agent_queues={"a0": "q"},
    known_queues=frozenset({"q", "q2", "closedq"}),
)


@dataclass
class Presence:
    """What the executor knows of agents: their devices and who is on a call."""

    devices_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)

    def devices(self, agent: str) -> tuple[str, ...]:
        return self.devices_of.get(agent, (f"sip:{agent}",))

    def available(self, agent: str) -> bool:
        return agent not in self.busy


def make_acd(n_agents: int = 3, **queue_kw: Any) -> Acd:
    queues = [
        QueueConfig(id="q", answer_groups=("g",), **queue_kw),
        QueueConfig(id="q2", answer_groups=("g",)),
        QueueConfig(id="closedq", answer_groups=("g",)),
    ]
    agents = [
        AgentConfig(id=f"a{i}", memberships=(GroupMembership("g"),), remote_number=f"070{i}")
        for i in range(n_agents)
    ]
    return Acd(queues, [AnswerGroup("g")], agents)


@dataclass
class World:
    acd: Acd = field(default_factory=make_acd)
    options: dict[str, QueueOptions] = field(default_factory=dict)
    now: float = T0
    # What the scripted executor answers on its own.
    leg_error: tuple[str, int] | None = None
    answer_ok: bool = True
    # What it did.
    responses: dict[str, list[int]] = field(default_factory=dict)
    flows: dict[str, A.RunFlow] = field(default_factory=dict)
    services: dict[str, A.RunService] = field(default_factory=dict)
    ringing: dict[tuple[str, str], str] = field(default_factory=dict)
    prompted: set[tuple[str, str]] = field(default_factory=set)
    bridged: dict[str, str] = field(default_factory=dict)
    music: dict[str, str | None] = field(default_factory=dict)
    announced: list[tuple[str, int]] = field(default_factory=list)
    briefed: list[tuple[str, str, str]] = field(default_factory=list)
    stored: dict[str, Any] = field(default_factory=dict)  # pending callbacks kept
    sms: list[tuple[str, str]] = field(default_factory=list)
    sms_error: str | None = None
    hung_up: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    log: list[CallEvent] = field(default_factory=list)
    summaries: dict[str, CallSummary] = field(default_factory=dict)
    actions: list[A.Action] = field(default_factory=list)
    notified: list[tuple[str, int]] = field(default_factory=list)  # REFER progress (NOTIFY)
    consult_answers: list[tuple[str, int]] = field(default_factory=list)  # phone consult
    agents_bridged: dict[str, tuple[str, str]] = field(default_factory=dict)
    held_parties: dict[tuple[str, str], str] = field(default_factory=dict)

    # Queues closed until a time (None: closed for good); others are open.
    closed_until: dict[str, float | None] = field(default_factory=dict)
    closed_calendars: set[str] = field(default_factory=set)
    presence: Presence = field(default_factory=Presence)
    policy: OutboundPolicy = OUTBOUND
    ring_caller_ids: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def _next_open(self, queue: str, now: float) -> float | None:
        if queue not in self.closed_until:
            return now
        until = self.closed_until[queue]
        return now if until is not None and until <= now else until

    def _agent_device(self, agent: str) -> str | None:
        return self.acd.agent_view(agent).device if self.acd.is_logged_in(agent) else None

    def _agent_busy(self, agent: str) -> str | None:
        state = self.acd.agent_view(agent).state.value
        return None if state == "ready" else state

    def __post_init__(self) -> None:
        self.core = CallCore(
            route=PLAN.get,
            queue_options=lambda q: self.options.get(q, QueueOptions()),
            next_open=self._next_open,
            outbound=self.policy,
            presence=self.presence,
            calendar_open=lambda cal, now: cal not in self.closed_calendars,
            transfer_target=lambda text: X.resolve_target(
                text,
                route=PLAN.get,
                agent_device=self._agent_device,
                is_agent=lambda a: a in {c.id for c in self.acd.agent_configs()},
                external=True,
                agent_busy=self._agent_busy,
            ),
        )
        self.fold = SummaryFold()
        self._todo: deque[A.Action] = deque()
        self._busy = False

    # --- driving ----------------------------------------------------------------------------
    def invite(
        self, number: str = "100", a_number: str | None = "0701", call_id: str | None = None
    ) -> str:
        rid = f"r{len(self.responses) + 1}"
        self.responses[rid] = []
        call_id = call_id or f"c{len(self.responses)}"
        ev = E.Invite(rid, call_id, a_number, number, PLAN.get(number), "sv")
        actions = self.core.invite(ev, self.now)
        key = next((a.key for a in actions if isinstance(a, A.OpenCallerLeg)), rid)
        self.run(actions)
        return key

    def answered_call(self, number: str = "100", **kw: Any) -> str:
        """A call answered and acknowledged: its flow runs."""
        key = self.invite(number, **kw)
        self.feed(E.CallerAcked(key))
        return key

    def queued_call(self, number: str = "100", priority: int = 0, **kw: Any) -> str:
        key = self.answered_call(number, **kw)
        self.feed(E.FlowFinished(key, "queue", queue=PLAN[number].queue, priority=priority))
        return key

    def feed(self, ev: E.CallInput) -> None:
        self.run(self.core.handle(ev, self.now))

    def control(self, key: str, agent: str, op: str, target: str | None = None,
                via: X.Via = X.Via.API) -> X.ControlResult:  # fmt: skip
        result, actions = self.core.control(X.AgentControl(key, agent, op, target, via), self.now)
        self.run(actions)
        return result

    def acd_do(self, method: str, *args: Any, **kw: Any) -> None:
        self.run(self.core.on_acd(getattr(self.acd, method)(*args, now=self.now, **kw), self.now))

    def login(self, *agents: str, device: str = "sip:{}") -> None:
        for agent in agents:
            self.acd_do("agent_login", agent, device.format(agent))

    def advance(self, seconds: float) -> None:
        """Move virtual time on, firing the ACD's and the core's deadlines in order."""
        end = self.now + seconds
        while True:
            due = [d for d in (self.acd.next_deadline(), self.core.next_deadline()) if d]
            nxt = min(due, default=None)
            if nxt is None or nxt > end:
                break
            self.now = max(self.now, nxt)
            self.run(self.core.on_acd(self.acd.tick(now=self.now), self.now))
            self.run(self.core.tick(self.now))
        self.now = end

    def run(self, actions: list[A.Action]) -> None:
        self._todo.extend(actions)
        if self._busy:
            return
        self._busy = True
        try:
            while self._todo:
                action = self._todo.popleft()
                self.actions.append(action)
                getattr(self, f"_{type(action).__name__}")(action)
        finally:
            self._busy = False

    # --- what the test asks -------------------------------------------------------------------
    def kinds(self, key: str) -> list[str]:
        return [e.kind for e in self.log if e.call_id == key]

    def agent_of(self, key: str) -> str | None:
        return self.bridged.get(key)

    # --- the scripted executor ------------------------------------------------------------------
    def _Respond(self, a: A.Respond) -> None:
        self.responses.setdefault(a.request_id, []).append(a.status)

    def _OpenCallerLeg(self, a: A.OpenCallerLeg) -> None:
        if self.leg_error is not None:
            self.feed(E.LegReady(a.key, *self.leg_error))
        else:
            self.feed(E.LegReady(a.key))

    def _Answer(self, a: A.Answer) -> None:
        call = self.core.calls[a.key]
        if self.answer_ok:
            self.responses[call.request_id].append(200)
        self.feed(E.AnswerSent(a.key, self.answer_ok))

    def _RunFlow(self, a: A.RunFlow) -> None:
        self.flows[a.key] = a

    def _RunService(self, a: A.RunService) -> None:
        self.services[a.key] = a

    def _PlayQueueMusic(self, a: A.PlayQueueMusic) -> None:
        self.music[a.key] = a.message or a.music

    def _StopQueueMusic(self, a: A.StopQueueMusic) -> None:
        self.music.pop(a.key, None)

    def _Announce(self, a: A.Announce) -> None:
        self.announced.append((a.key, a.position))

    def _RingAgent(self, a: A.RingAgent) -> None:
        self.ringing[(a.key, a.agent)] = a.device
        self.ring_caller_ids[(a.key, a.agent)] = a.caller_id

    def _PromptAgent(self, a: A.PromptAgent) -> None:
        self.prompted.add((a.key, a.agent))

    def _DropAgent(self, a: A.DropAgent) -> None:
        self.ringing.pop((a.key, a.agent), None)
        self.prompted.discard((a.key, a.agent))
        if self.bridged.get(a.key) == a.agent:
            del self.bridged[a.key]

    def _Bridge(self, a: A.Bridge) -> None:
        # "customer" is each outbound call's far end, not an agent.
        assert a.agent == "customer" or a.agent not in self.bridged.values(), (
            f"{a.agent} bridged twice"
        )
        self.agents_bridged.pop(a.key, None)
        self.ringing.pop((a.key, a.agent), None)
        self.bridged[a.key] = a.agent

    def _SendSms(self, a: A.SendSms) -> None:
        self.sms.append((a.to, a.text))
        self.feed(E.SmsResult(a.key, a.agent, self.sms_error))

    def _SaveCallback(self, a: A.SaveCallback) -> None:
        self.stored[a.pending.callback.origin] = a.pending

    def _DropCallback(self, a: A.DropCallback) -> None:
        self.stored.pop(a.origin, None)

    def _BriefAgent(self, a: A.BriefAgent) -> None:
        self.briefed.append((a.key, a.agent, a.digits))

    def _BridgeAgents(self, a: A.BridgeAgents) -> None:
        self.ringing.pop((a.key, a.b), None)
        self.bridged[a.key] = a.a
        self.agents_bridged[a.key] = (a.a, a.b)

    def _StopDialogue(self, a: A.StopDialogue) -> None:
        self.services.pop(a.key, None)

    def _Notify(self, a: A.Notify) -> None:
        self.notified.append((a.key, a.status))

    def _AnswerConsult(self, a: A.AnswerConsult) -> None:
        self.consult_answers.append((a.key, 200))

    def _RejectConsult(self, a: A.RejectConsult) -> None:
        self.consult_answers.append((a.key, a.status))

    def _HoldParty(self, a: A.HoldParty) -> None:
        self.held_parties[(a.key, a.party)] = a.music

    def _UnholdParty(self, a: A.UnholdParty) -> None:
        self.held_parties.pop((a.key, a.party), None)

    def _AcdWithdrawn(self, a: A.AcdWithdrawn) -> None:
        self._acd("call_withdrawn", a.call_id, reason=a.reason)

    def _Unbridge(self, a: A.Unbridge) -> None:
        self.bridged.pop(a.key, None)
        self.agents_bridged.pop(a.key, None)

    def _HangUpCaller(self, a: A.HangUpCaller) -> None:
        self.hung_up.append(a.key)

    def _ReleaseMedia(self, a: A.ReleaseMedia) -> None:
        self.music.pop(a.key, None)
        self.feed(E.MediaClosed(a.key, {"caller": {"sent": 1}}, mos=4.3))

    def _Forget(self, a: A.Forget) -> None:
        self.forgotten.append(a.key)

    def _Log(self, a: A.Log) -> None:
        self.log.append(a.event)
        summary = self.fold.add(a.event)
        if summary is not None:
            assert summary.call_id not in self.summaries, "two summaries for one call"
            self.summaries[summary.call_id] = summary

    def _acd(self, method: str, *args: Any, **kw: Any) -> None:
        try:
            self.acd_do(method, *args, **kw)
        except AcdError:
            pass

    def _AcdArrived(self, a: A.AcdArrived) -> None:
        self._acd("call_arrived", a.call, again=a.again)

    def _AcdAnswered(self, a: A.AcdAnswered) -> None:
        self._acd("offer_answered", a.call_id, a.agent)

    def _AcdOfferFailed(self, a: A.AcdOfferFailed) -> None:
        method = "offer_rejected" if a.rejected else "offer_failed"
        self._acd(method, a.call_id, a.agent, reason=a.reason)

    def _AcdAbandoned(self, a: A.AcdAbandoned) -> None:
        self._acd("call_abandoned", a.call_id)

    def _AcdEnded(self, a: A.AcdEnded) -> None:
        self._acd("call_ended", a.call_id, reason=a.reason)

    def _AcdEngaged(self, a: A.AcdEngaged) -> None:
        self._acd("agent_engaged", a.agent, a.call_id, only_ready=a.only_ready)

    def _AcdReleased(self, a: A.AcdReleased) -> None:
        self._acd("agent_released", a.agent, a.call_id, queue=a.queue, wrap_up=a.wrap_up)

    # --- calls outside the queues -----------------------------------------------------------
    def place(self, agent: str, dialled: str, queue: str | None = None) -> str:
        """The agent's phone INVITEs ``dialled``: the call's key (or the request id)."""
        rid = f"r{len(self.responses) + 1}"
        self.responses[rid] = []
        ev = E.PlaceCall(rid, f"out{len(self.responses)}", agent, dialled, queue)
        actions = self.core.place(ev, self.now)
        key = next((a.key for a in actions if isinstance(a, A.OpenCallerLeg)), rid)
        self.run(actions)
        return key
