"""What a caller of a company's B-number hears before the control queue.

The company's own calendar (or the control queue's when it has none) decides: open, the
company's greeting and the queue; closed, its night message and the call ends. It replaces
the queue's flow for these numbers: the greeting is the company's, not the queue's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from acd import Calendar
from ivr import CallerChannel, FlowServices, FlowState, Outcome

from .model import Company, CompanyBook


def company_open(
    company: Company,
    queue: str,
    at: datetime,
    services: FlowServices,
    calendars: Mapping[str, Calendar],
) -> tuple[bool, str | None]:
    """(open?, the rule that decided) by the company's calendar, else the queue's."""
    own = calendars.get(company.calendar) if company.calendar else None
    decision = own.status(at) if own is not None else services.calendar_status(queue, at)
    return bool(decision.open), getattr(decision, "rule", None)


async def _play_first(ch: CallerChannel, wanted: str, fallback: str) -> None:
    if wanted != fallback and not ch.can_play(wanted):
        await ch.log("prompt_missing", prompt=wanted, instead=fallback)
        wanted = fallback
    await ch.play([wanted])


async def greet_for_company(
    ch: CallerChannel,
    services: FlowServices,
    state: FlowState,
    company: Company,
    calendars: Mapping[str, Calendar],
) -> Outcome:
    await ch.log("company", company=company.id, name=company.name)
    is_open, rule = company_open(company, state.queue, services.now(), services, calendars)
    if not is_open:
        await ch.log("closed", rule=rule, company=company.id, prompt=company.night_message)
        await _play_first(ch, company.night_message, "closed")
        return Outcome("closed", queue=state.queue, data={"company": company.id})
    await _play_first(ch, company.greeting, "welcome")
    return Outcome("queue", queue=state.queue, priority=state.priority)


class FlowRunner(Protocol):
    """What the call executor runs for a caller before the queue (``FlowPlan`` or this)."""

    async def run(
        self,
        number: str | None,
        channel: CallerChannel,
        services: FlowServices,
        state: FlowState,
    ) -> Outcome: ...


class CompanyFlows:
    """A ``FlowPlan`` whose company numbers greet in the company's name (same ``run``)."""

    def __init__(
        self,
        plan: FlowRunner,
        book: Callable[[], CompanyBook],
        calendars: Mapping[str, Calendar],
    ) -> None:
        self.plan = plan
        self.book = book
        self.calendars = calendars

    async def run(
        self,
        number: str | None,
        channel: CallerChannel,
        services: FlowServices,
        state: FlowState,
    ) -> Outcome:
        company = self.book().for_number(number)
        if company is None:
            return await self.plan.run(number, channel, services, state)
        return await greet_for_company(channel, services, state, company, self.calendars)
