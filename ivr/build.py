"""Flows from the configuration: steps built once at start, chosen per dialled number.

A number's ``flow`` wins, then its queue's ``flow``, then a flow named ``default``,
then the built-in default (hot prompt, calendar, welcome, queue). A menu key that leads
to another number continues in that number's flow (or service): ``FlowPlan.run`` follows
such jumps, at most ``MAX_JUMPS`` times so that a caller cannot loop for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .config import CustomerNumberConfig, FlowConfig, MenuConfig, MenuTarget, StepSpec
from .flow import CallerChannel, FlowServices, FlowState, Outcome, Step, run_flow
from .steps import (
    CalendarCheck,
    CustomerNumber,
    MenuChoice,
    closed_message,
    hot_prompt,
    to_queue,
    voicemail,
    welcome,
)

DEFAULT_FLOW = "default"
MAX_JUMPS = 10

_SIMPLE: dict[str, Step] = {
    "hot-prompt": hot_prompt,
    "welcome": welcome,
    "queue": to_queue,
    "voicemail": voicemail,
    "closed-message": closed_message,
}


@dataclass(frozen=True, slots=True)
class NumberEntry:
    """What the flow plan needs of one number-plan entry."""

    queue: str | None = None
    service: str | None = None
    flow: str | None = None


def _target(t: MenuTarget) -> Outcome:
    if t.queue is not None:
        return Outcome("queue", queue=t.queue)
    if t.service == "voicemail":
        return Outcome("voicemail", service="voicemail")
    if t.service is not None:
        return Outcome("service", service=t.service)
    return Outcome("number", data={"number": t.number})


def build_step(spec: StepSpec, flow: FlowConfig) -> Step:
    if spec.name == "calendar":
        return CalendarCheck(tuple(_SIMPLE[name] for name in flow.closed))
    if isinstance(spec.options, MenuConfig):
        m = spec.options
        return MenuChoice(
            m.prompt,
            {key: _target(t) for key, t in m.choices.items()},
            retries=m.retries,
            timeout=m.timeout,
            invalid_prompt=m.invalid_prompt,
            no_choice=_target(m.no_choice) if m.no_choice is not None else None,
        )
    if isinstance(spec.options, CustomerNumberConfig):
        c = spec.options
        return CustomerNumber(c.prompt, c.max_digits, c.timeout, c.digit_timeout)
    return _SIMPLE[spec.name]


def build_flow(flow: FlowConfig) -> tuple[Step, ...]:
    return tuple(build_step(spec, flow) for spec in flow.step_specs())


class FlowPlan:
    def __init__(
        self,
        flows: Mapping[str, FlowConfig],
        numbers: Mapping[str, NumberEntry],
        queue_flows: Mapping[str, str | None] | None = None,
    ) -> None:
        self.steps = {fid: build_flow(f) for fid, f in flows.items()}
        self.builtin = build_flow(FlowConfig())
        self.numbers = dict(numbers)
        self.queue_flows = {q: f for q, f in (queue_flows or {}).items() if f}

    @classmethod
    def from_config(cls, config) -> FlowPlan:  # noqa: ANN001 - config.VaxelConfig
        """From a validated ``VaxelConfig`` (typed loosely: ivr does not import config)."""
        numbers = {
            n: NumberEntry(t.queue, t.service, getattr(t, "flow", None))
            for n, t in config.numbers.items()
        }
        queue_flows = {q: getattr(c, "flow", None) for q, c in config.queues.items()}
        return cls(getattr(config, "flows", {}), numbers, queue_flows)

    def flow_name(self, number: str | None, queue: str) -> str | None:
        entry = self.numbers.get(number or "")
        name = (entry.flow if entry else None) or self.queue_flows.get(queue)
        if name is None and DEFAULT_FLOW in self.steps:
            name = DEFAULT_FLOW
        return name

    def steps_for(self, number: str | None, queue: str) -> Sequence[Step]:
        name = self.flow_name(number, queue)
        return self.steps[name] if name is not None else self.builtin

    async def run(
        self,
        number: str | None,
        channel: CallerChannel,
        services: FlowServices,
        state: FlowState,
    ) -> Outcome:
        """Run the number's flow; an outcome ``service``/``voicemail`` names the service."""
        steps = self.steps_for(number, state.queue)
        for _ in range(MAX_JUMPS):
            # A "voicemail" outcome (step or menu key) already names the current queue.
            outcome = await run_flow(steps, channel, services, state)
            if outcome.kind == "service":
                return Outcome("service", queue=state.queue, service=outcome.service)
            if outcome.kind != "number":
                return outcome
            number = str(outcome.data["number"])
            entry = self.numbers[number]
            await channel.log("flow_jump", number=number)
            if entry.service is not None:
                # A voicemail number's own queue is its mailbox.
                kind = "voicemail" if entry.service == "voicemail" else "service"
                return Outcome(kind, queue=entry.queue or state.queue, service=entry.service)
            state.queue = entry.queue or state.queue
            steps = self.steps_for(number, state.queue)
        await channel.log("flow_jumps_exceeded", limit=MAX_JUMPS)
        return Outcome("hangup")
