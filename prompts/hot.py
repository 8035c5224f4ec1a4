"""Hot prompts: temporary prompts played first to every caller of a queue, or of all queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ALL_QUEUES = "*"


@dataclass(frozen=True, slots=True)
class HotPrompt:
    prompt: str
    queue: str  # a queue id, or "*" for every queue
    until: datetime | None = None

    def active(self, queue: str, at: datetime) -> bool:
        return self.queue in (queue, ALL_QUEUES) and (self.until is None or at < self.until)


class HotPrompts:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], HotPrompt] = {}

    def activate(
        self, prompt: str, queue: str = ALL_QUEUES, until: datetime | None = None
    ) -> HotPrompt:
        hot = HotPrompt(prompt, queue, until)
        self._items[(queue, prompt)] = hot
        return hot

    def deactivate(self, prompt: str, queue: str = ALL_QUEUES) -> bool:
        return self._items.pop((queue, prompt), None) is not None

    def active_for(self, queue: str, at: datetime) -> list[str]:
        return [h.prompt for h in self._items.values() if h.active(queue, at)]

    def all(self) -> list[HotPrompt]:
        return list(self._items.values())
