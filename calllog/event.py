"""The one call-log event type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Agent state events (login, pause, ready ...) belong to no call.
AGENT_CALL_ID = "-"


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One step of a call (or an agent's state change), as the call log stores it."""

    call_id: str
    kind: str  # an EventKind value
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    queue: str | None = None
    agent: str | None = None
    a_number: str | None = None
    b_number: str | None = None
    data: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "queue": self.queue,
            "agent": self.agent,
            "a_number": self.a_number,
            "b_number": self.b_number,
            "data": self.data,
        }


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every value JSON can store: other objects become their text."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, str | int | float | bool | dict) or v is None:
            out[k] = v
        elif isinstance(v, list | tuple):
            out[k] = [x if isinstance(x, str | int | float | bool) else str(x) for x in v]
        else:
            out[k] = str(v)
    return out
