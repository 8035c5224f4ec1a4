"""The figures of one queue or one agent in one interval.

Each holds sums and counts only (so two of them add up: a day from its hours, an answering
point from its queues); the averages and shares are properties computed from those. The
exact formulas are in ``docs/statistics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

# A call whose MOS is under this had a connection the agent was warned about (SPEC S10).
MOS_LOW = 3.1


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


@dataclass(slots=True)
class QueueFigures:
    """One queue (or a group of queues) in one interval.

    Counts are of *queue visits*: a call is offered to each queue it enters (its first
    queue on arrival, another one when it overflows there), and each visit ends answered,
    abandoned or overflowed out. Waits are the time in this queue.
    """

    queue: str
    start: datetime
    end: datetime
    service_level_seconds: float = 20.0
    short_abandon_seconds: float = 5.0
    offered: int = 0
    answered: int = 0
    answered_within: int = 0  # answered with a wait <= service_level_seconds
    abandoned: int = 0  # every abandon, short ones included
    abandoned_short: int = 0  # abandoned with a wait < short_abandon_seconds
    abandoned_within: int = 0  # abandoned with a wait <= service_level_seconds
    overflow_out: int = 0
    overflow_in: int = 0
    closed: int = 0  # calls that met the closed calendar
    voicemails: int = 0  # voicemails stored
    answer_wait: float = 0.0  # sum of the waits of answered visits
    abandon_wait: float = 0.0  # sum of the waits of abandoned visits
    wait: float = 0.0  # sum of the waits of every ended visit
    waits: int = 0  # ended visits (answered + abandoned + overflow_out)
    longest_wait: float = 0.0
    talk: float = 0.0  # sum of talk time of answered calls whose talk ended
    talks: int = 0
    wrap_up: float = 0.0  # sum of wrap-up time after answered calls whose wrap-up ended
    wrap_ups: int = 0
    mos: float = 0.0  # sum of the MOS of answered calls that have one
    mos_calls: int = 0
    mos_low: int = 0  # of those, calls with MOS < 3.1
    # Outbound calls placed for this queue (its caller id): not offered calls, not in the
    # service level; counted in the interval they were placed / ended.
    outbound: int = 0
    outbound_answered: int = 0
    outbound_talk: float = 0.0
    transferred_out: int = 0  # answered here, then passed on by the agent (any target)
    transferred_in: int = 0  # visits of callers an agent transferred into this queue

    # --- service level (see docs/statistics.md: the default and why) -------------------
    @property
    def service_level(self) -> float | None:
        """The default: answered within T / (offered - short abandons)."""
        return _ratio(self.answered_within, self.offered - self.abandoned_short)

    @property
    def service_level_offered(self) -> float | None:
        return _ratio(self.answered_within, self.offered)

    @property
    def service_level_answered(self) -> float | None:
        return _ratio(self.answered_within, self.answered)

    @property
    def service_level_excluding_abandoned_within(self) -> float | None:
        return _ratio(self.answered_within, self.offered - self.abandoned_within)

    # --- averages -------------------------------------------------------------------------
    @property
    def asa(self) -> float | None:
        """Average speed of answer, seconds."""
        return _ratio(self.answer_wait, self.answered)

    @property
    def average_wait(self) -> float | None:
        return _ratio(self.wait, self.waits)

    @property
    def average_abandon_wait(self) -> float | None:
        return _ratio(self.abandon_wait, self.abandoned)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned - self.abandoned_short, self.offered - self.abandoned_short)

    @property
    def average_talk(self) -> float | None:
        return _ratio(self.talk, self.talks)

    @property
    def average_wrap_up(self) -> float | None:
        return _ratio(self.wrap_up, self.talks)

    @property
    def average_handle_time(self) -> float | None:
        return _ratio(self.talk + self.wrap_up, self.talks)

    @property
    def mos_mean(self) -> float | None:
        return _ratio(self.mos, self.mos_calls)

    @property
    def mos_low_share(self) -> float | None:
        return _ratio(self.mos_low, self.mos_calls)

    def add(self, other: QueueFigures) -> None:
        """Add ``other``'s sums and counts to these (the thresholds stay)."""
        for name in _QUEUE_SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_wait = max(self.longest_wait, other.longest_wait)

    def as_dict(self) -> dict[str, Any]:
        """Every sum, count and derived figure, for JSON and CSV."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        for name in _QUEUE_DERIVED:
            out[name] = getattr(self, name)
        return out


_QUEUE_SUMS = tuple(
    f.name
    for f in fields(QueueFigures)
    if f.name not in ("queue", "start", "end", "longest_wait") and not f.name.endswith("_seconds")
)
_QUEUE_DERIVED = (
    "service_level",
    "service_level_offered",
    "service_level_answered",
    "service_level_excluding_abandoned_within",
    "asa",
    "average_wait",
    "average_abandon_wait",
    "abandon_rate",
    "average_talk",
    "average_wrap_up",
    "average_handle_time",
    "mos_mean",
    "mos_low_share",
)


@dataclass(slots=True)
class AgentFigures:
    """One agent in one interval: time per state (cut at the interval's bounds) and the
    agent's offers and calls (counted in the interval of the offer / the answer)."""

    agent: str
    start: datetime
    end: datetime
    ready: float = 0.0
    ringing: float = 0.0
    busy: float = 0.0
    wrap_up: float = 0.0
    paused: float = 0.0
    paused_by_reason: dict[str, float] = field(default_factory=dict)
    offers: int = 0
    no_answers: int = 0  # the ring timeout passed
    declined: int = 0  # rejected by the device or the agent, or the device failed
    answered: int = 0
    talk: float = 0.0  # talk of the answered calls whose talk ended
    unanswered_logouts: int = 0  # logged out or paused for too many unanswered offers
    # Calls outside the queues (docs/statistics.md): not in offers/answered/talk above.
    outbound: int = 0  # placed from the agent's phone or by click-to-call
    outbound_answered: int = 0  # the customer answered
    outbound_talk: float = 0.0
    direct: int = 0  # calls to the agent's direct number (closed and busy ones too)
    direct_answered: int = 0
    direct_talk: float = 0.0
    transferred: int = 0  # calls the agent passed on (blind or attended, any target)
    transferred_in: int = 0  # calls passed to this agent directly (not through a queue)

    @property
    def logged_in(self) -> float:
        return self.ready + self.ringing + self.busy + self.wrap_up + self.paused

    @property
    def occupancy(self) -> float | None:
        """Share of the available time (logged in, not paused) spent on calls."""
        return _ratio(self.ringing + self.busy + self.wrap_up, self.logged_in - self.paused)

    @property
    def average_talk(self) -> float | None:
        return _ratio(self.talk, self.answered)

    def add(self, other: AgentFigures) -> None:
        for name in _AGENT_SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, seconds in other.paused_by_reason.items():
            self.paused_by_reason[reason] = self.paused_by_reason.get(reason, 0.0) + seconds

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        out["paused_by_reason"] = dict(self.paused_by_reason)
        for name in ("logged_in", "occupancy", "average_talk"):
            out[name] = getattr(self, name)
        return out


_AGENT_SUMS = tuple(
    f.name
    for f in fields(AgentFigures)
    if f.name not in ("agent", "start", "end", "paused_by_reason")
)
