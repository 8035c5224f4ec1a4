"""The CRM hook of the customer-number step: look a number up, maybe raise priority or route.

Vaxel has no CRM yet; ``NoCrm`` finds nobody, so the step only logs the digits. A CRM
module implements ``CustomerLookup`` and is passed to the flow services at start.
"""

from __future__ import annotations

from typing import Protocol

from .flow import CustomerMatch


class CustomerLookup(Protocol):
    async def lookup(self, number: str) -> CustomerMatch | None:
        """The customer with this customer number, or None when unknown."""


class NoCrm:
    async def lookup(self, number: str) -> CustomerMatch | None:
        return None
