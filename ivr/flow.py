"""A caller's path before the queue (SPEC S2), as a list of steps run in order.

Steps talk to the caller only through ``CallerChannel`` (implemented by the call
controller over the media engine) and to the rest of the system through
``FlowServices``; both are passed in, so flows run unchanged against a real leg or
a test double. A step returns ``None`` to go on, or an ``Outcome`` that ends the flow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class DigitResult:
    digits: str
    reason: str  # "max", "terminator", "timeout", "hangup"


class CallerChannel(Protocol):
    """What a flow step may do with the caller's leg."""

    @property
    def call_id(self) -> str: ...
    @property
    def a_number(self) -> str | None: ...
    @property
    def b_number(self) -> str: ...
    @property
    def language(self) -> str: ...

    async def play(self, prompts: Sequence[str], *, barge_in: bool = False) -> str | None:
        """Play prompt names in order; with ``barge_in`` a key stops it and is returned.
        A prompt without audio is skipped and logged (``prompt_missing``), never an error."""

    def can_play(self, prompt: str) -> bool:
        """Whether ``prompt`` has audio now: a stored prompt can be gone since the start."""

    async def collect_digits(
        self, max_digits: int, first_timeout: float, inter_timeout: float, terminator: str = "#"
    ) -> DigitResult: ...

    async def record(self, max_seconds: float) -> tuple[str, float] | None:
        """Record until # or silence; returns (path, seconds) or None on hang-up."""

    async def log(self, kind: str, **data: object) -> None: ...


class FlowServices(Protocol):
    def now(self) -> datetime: ...

    def calendar_status(self, queue: str, at: datetime):  # -> acd.calendar.CalendarDecision
        ...

    def hot_prompts(self, queue: str, at: datetime) -> list[str]: ...

    def queue_prompt(self, queue: str, slot: str) -> str | None:
        """The prompt activated in a queue's slot (welcome, closed ...), or None."""

    async def lookup_customer(self, number: str) -> CustomerMatch | None: ...


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    customer_id: str
    name: str | None = None
    priority: int = 0
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the flow ended: into a queue, to voicemail, to a service, or hung up."""

    kind: str  # "queue", "voicemail", "service", "number", "closed", "hangup"
    queue: str | None = None
    service: str | None = None
    priority: int = 0
    data: dict[str, object] = field(default_factory=dict)


@dataclass
class FlowState:
    queue: str
    priority: int = 0
    customer: CustomerMatch | None = None
    closed: Any = None  # the calendar's CalendarDecision once a calendar step found it closed


Step = Callable[[CallerChannel, FlowServices, FlowState], Awaitable[Outcome | None]]


async def run_flow(
    steps: Sequence[Step], channel: CallerChannel, services: FlowServices, state: FlowState
) -> Outcome:
    for step in steps:
        outcome = await step(channel, services, state)
        if outcome is not None:
            return outcome
    return Outcome("queue", queue=state.queue, priority=state.priority)
