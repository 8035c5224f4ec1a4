"""Configuration and call data the ACD works on.

Everything here is an immutable value: the composition root builds these from
the configuration and hands them to :class:`acd.Acd`.  Validation happens on
construction so a bad configuration fails with a message that names the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from acd.errors import AcdConfigError


class AgentState(StrEnum):
    """Agent states (SPEC S4)."""

    OFFLINE = "offline"
    READY = "ready"
    RINGING = "ringing"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class Channel(StrEnum):
    """What kind of work item is distributed; one ACD serves them all (S3)."""

    CALL = "call"
    CALLBACK = "callback"
    TICKET = "ticket"
    CHAT = "chat"


class Strategy(StrEnum):
    """How a ready agent is chosen among the eligible ones (S3)."""

    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_CALLS = "fewest_calls"
    ORDERED = "ordered"
    RING_ALL = "ring_all"


def _seconds(owner: str, name: str, value: object, *, allow_zero: bool = True) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise AcdConfigError(f"{owner}: {name}: expected seconds (number {bound}), got {value!r}")


def _optional_seconds(owner: str, name: str, value: object) -> None:
    if value is not None:
        _seconds(owner, name, value, allow_zero=False)


@dataclass(frozen=True, slots=True)
class AnswerGroup:
    """A skill/group that agents log into; queues are served by answer groups."""

    id: str
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise AcdConfigError(f"answer group: id: expected a non-empty string, got {self.id!r}")


@dataclass(frozen=True, slots=True)
class GroupMembership:
    """An agent's membership of an answer group.

    ``level`` orders agents for the ``ordered`` strategy: lower levels are
    offered first (a "penalty" in other vocabularies).
    """

    group: str
    level: int = 0


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """A person who answers (handläggare).

    ``remote_number``/``alt_number`` are the pre-registered numbers accepted by
    remote login (S5); ``preselected_groups`` are used when a login does not
    name groups (empty: all the agent's groups).
    """

    id: str
    name: str = ""
    memberships: tuple[GroupMembership, ...] = ()
    preselected_groups: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    remote_number: str | None = None
    alt_number: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise AcdConfigError(f"agent: id: expected a non-empty string, got {self.id!r}")
        groups = [m.group for m in self.memberships]
        if len(set(groups)) != len(groups):
            raise AcdConfigError(f"agent {self.id!r}: memberships: a group is listed twice")
        unknown = [g for g in self.preselected_groups if g not in groups]
        if unknown:
            raise AcdConfigError(
                f"agent {self.id!r}: preselected_groups: {unknown} are not among the agent's "
                f"memberships {groups}"
            )

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(m.group for m in self.memberships)

    def level_in(self, group: str) -> int | None:
        for m in self.memberships:
            if m.group == group:
                return m.level
        return None

    def default_login_groups(self) -> tuple[str, ...]:
        """Groups for a login that names none: preselected, else all (S5)."""
        return self.preselected_groups or self.groups


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue (telefonkö) as far as distribution is concerned.

    Overflow targets name another queue (the ACD moves the call there itself,
    keeping its original arrival) or any other target of the number plan (the
    call then leaves the ACD and the composition root routes it).

    - ``max_wait``/``max_wait_target``: overflow after waiting this long here.
    - ``max_queue_length``/``queue_full_target``: overflow on arrival when this
      many calls are already waiting or ringing in the queue.
    - ``no_agent_target``: overflow (on arrival and while waiting) when no
      agent is logged in to any serving answer group.
    - ``classification_profile``: when set, the agent is asked for a code after
      each answered call; wrap-up then waits for it at most
      ``wrap_up + classification_timeout`` seconds (see ``docs/acd.md``).
      ``classification_codes`` are the profile's codes (a code outside them is refused);
      with ``classification_required`` false wrap-up ends on time without a code.
    - ``announce_interval``: seconds between position/wait announcements.
    - ``default_aht``: average handle time assumed until real calls are seen.
    - ``failed_offer_retry``: seconds before an agent whose device failed at
      once (404, unreachable) is offered the same call again; other agents
      may take it meanwhile.  0 retries at once.
    """

    id: str
    answer_groups: tuple[str, ...]
    name: str = ""
    priority: int = 0
    strategy: Strategy = Strategy.LONGEST_IDLE
    ring_timeout: float = 20.0
    wrap_up: float = 0.0
    max_wait: float | None = None
    max_wait_target: str | None = None
    max_queue_length: int | None = None
    queue_full_target: str | None = None
    no_agent_target: str | None = None
    classification_profile: str | None = None
    classification_timeout: float = 120.0
    # The profile's codes (empty: any code is taken) and whether wrap-up waits for one.
    classification_codes: tuple[str, ...] = ()
    classification_required: bool = True
    service_level_seconds: float = 20.0
    announce_interval: float | None = None
    default_aht: float = 180.0
    failed_offer_retry: float = 5.0
    # Unanswered offers in a row from this queue before the agent is logged out or paused
    # (None: the ACD's own limit and action).
    max_unanswered: int | None = None
    unanswered_action: str | None = None

    def __post_init__(self) -> None:
        owner = f"queue {self.id!r}"
        if self.max_unanswered is not None and (
            not isinstance(self.max_unanswered, int) or self.max_unanswered < 1
        ):
            raise AcdConfigError(
                f"{owner}: max_unanswered: expected an integer >= 1, got {self.max_unanswered!r}"
            )
        if self.unanswered_action not in (None, "logout", "pause"):
            raise AcdConfigError(
                f"{owner}: unanswered_action: expected 'logout' or 'pause', "
                f"got {self.unanswered_action!r}"
            )
        if not isinstance(self.id, str) or not self.id:
            raise AcdConfigError(f"queue: id: expected a non-empty string, got {self.id!r}")
        if not self.answer_groups or isinstance(self.answer_groups, str):
            raise AcdConfigError(
                f"{owner}: answer_groups: expected a non-empty list of group ids, "
                f"got {self.answer_groups!r}"
            )
        try:
            object.__setattr__(self, "strategy", Strategy(self.strategy))
        except ValueError:
            choices = ", ".join(s.value for s in Strategy)
            raise AcdConfigError(
                f"{owner}: strategy: expected one of {choices}, got {self.strategy!r}"
            ) from None
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise AcdConfigError(f"{owner}: priority: expected an integer, got {self.priority!r}")
        _seconds(owner, "ring_timeout", self.ring_timeout, allow_zero=False)
        _seconds(owner, "wrap_up", self.wrap_up)
        _seconds(owner, "classification_timeout", self.classification_timeout)
        _seconds(owner, "service_level_seconds", self.service_level_seconds)
        _seconds(owner, "default_aht", self.default_aht, allow_zero=False)
        _seconds(owner, "failed_offer_retry", self.failed_offer_retry)
        _optional_seconds(owner, "max_wait", self.max_wait)
        _optional_seconds(owner, "announce_interval", self.announce_interval)
        if (self.max_wait is None) != (self.max_wait_target is None):
            raise AcdConfigError(f"{owner}: max_wait and max_wait_target must be set together")
        if self.max_queue_length is not None and (
            not isinstance(self.max_queue_length, int) or self.max_queue_length < 0
        ):
            raise AcdConfigError(
                f"{owner}: max_queue_length: expected an integer >= 0, "
                f"got {self.max_queue_length!r}"
            )
        if (self.max_queue_length is None) != (self.queue_full_target is None):
            raise AcdConfigError(
                f"{owner}: max_queue_length and queue_full_target must be set together"
            )


@dataclass(frozen=True, slots=True)
class Call:
    """A work item waiting for an agent: a call, a callback, a ticket or a chat.

    ``arrived_at`` is the *original* arrival (in the system); it is kept across
    overflow and when a callback takes the caller's place (S3, S8).  ``None``
    means "now" when the call is handed to :meth:`acd.Acd.call_arrived`.
    ``priority`` is the call's own priority (CRM, menu choice, callback);
    the queue's priority is added to it when ordering.
    """

    id: str
    queue: str
    priority: int = 0
    arrived_at: float | None = None
    a_number: str | None = None
    b_number: str | None = None
    channel: Channel = Channel.CALL

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise AcdConfigError(f"call: id: expected a non-empty string, got {self.id!r}")
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise AcdConfigError(
                f"call {self.id!r}: priority: expected an integer, got {self.priority!r}"
            )
        try:
            object.__setattr__(self, "channel", Channel(self.channel))
        except ValueError:
            choices = ", ".join(c.value for c in Channel)
            raise AcdConfigError(
                f"call {self.id!r}: channel: expected one of {choices}, got {self.channel!r}"
            ) from None
        if self.arrived_at is not None and not math.isfinite(self.arrived_at):
            raise AcdConfigError(f"call {self.id!r}: arrived_at: expected a finite time")
