"""What IVR flows may ask of the rest of the system (calendars, hot prompts, slots, CRM)."""

from __future__ import annotations

from datetime import UTC, datetime

from acd import CalendarDecision, CalendarSet
from ivr import CustomerLookup, CustomerMatch, NoCrm
from prompts import HotPrompts


class FlowServicesImpl:
    def __init__(
        self,
        calendars: CalendarSet,
        hot: HotPrompts,
        slots: dict[str, dict[str, str]] | None = None,
        crm: CustomerLookup | None = None,
    ) -> None:
        self.calendars = calendars
        self.hot = hot
        self.slots = slots or {}
        self.crm: CustomerLookup = crm or NoCrm()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def calendar_status(self, queue: str, at: datetime) -> CalendarDecision:
        return self.calendars.status(queue, at)

    def hot_prompts(self, queue: str, at: datetime) -> list[str]:
        return self.hot.active_for(queue, at)

    def queue_prompt(self, queue: str, slot: str) -> str | None:
        return self.slots.get(queue, {}).get(slot)

    async def lookup_customer(self, number: str) -> CustomerMatch | None:
        return await self.crm.lookup(number)
