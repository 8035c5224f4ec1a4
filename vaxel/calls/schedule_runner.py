"""Carries out scheduled logins: logs agents in at each day's start and out at its end.

``acd.schedule`` says what is due; this keeps one timer at the next transition, and at
start (or after any change) logs in the agents whose window is open now — a start missed
while the server was down is applied when it comes back, if the day's window still runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from acd import Acd, AcdError, LoginSchedule, next_transition
from vaxel.logs import log_event

from .acd_runner import AcdRunner
from .directory import TEL_DEVICE

log = logging.getLogger("vaxel.schedules")


class ScheduleRunner:
    def __init__(
        self,
        runner: AcdRunner,
        *,
        remote_number: Callable[[str], str | None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runner = runner
        self.acd: Acd = runner.acd
        self.remote_number = remote_number
        self.clock = clock
        self.schedules: list[LoginSchedule] = []
        self._timer: asyncio.TimerHandle | None = None
        self._started = False
        self._last = datetime.fromtimestamp(0, UTC)  # when transitions were last looked at

    def start(self) -> None:
        self._started = True
        self._apply(self.clock())

    def close(self) -> None:
        self._started = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def update(self, schedules: list[LoginSchedule]) -> None:
        """The stored schedules changed (or were loaded)."""
        self.schedules = schedules
        if self._started:
            self._apply(self.clock())

    def device(self, schedule: LoginSchedule) -> str | None:
        number = schedule.number or self.remote_number(schedule.agent)
        return f"{TEL_DEVICE}{number}" if number else None

    def _apply(self, now: float) -> None:
        """At start and after a change: open windows log in; a login a schedule made whose
        window closed (while the server was down) is ended."""
        at = datetime.fromtimestamp(now, UTC)
        for s in self.schedules:
            if s.active_at(at):
                self._login(s)
            elif s.begins <= at:
                self._logout(s)
        self._last = at
        self._arm(at)

    def _arm(self, at: datetime) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        nxt = next_transition(self.schedules, at)
        if nxt is None or not self._started:
            return
        delay = max(0.0, nxt.at.timestamp() - self.clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        at = datetime.fromtimestamp(self.clock(), UTC)
        for s in self.schedules:
            if s.active_at(at):
                self._login(s)
            elif any(self._last < end <= at for _, end in s.windows()):
                self._logout(s)
        self._last = at
        self._arm(at)

    def _known(self, s: LoginSchedule) -> bool:
        """Whether the schedule's agent still exists (agents are deleted at run time)."""
        if any(c.id == s.agent for c in self.acd.agent_configs()):
            return True
        log_event(log, "schedule.unknown_agent", level=logging.WARNING, agent=s.agent,
                  schedule=s.id)  # fmt: skip
        return False

    def _login(self, s: LoginSchedule) -> None:
        if not self._known(s):
            return
        device = self.device(s)
        view = self.acd.agent_view(s.agent)
        if device is None or (view.state.value != "offline" and view.device == device):
            return
        try:
            self.runner.run(self.acd.agent_login, s.agent, device, None)
        except AcdError as exc:
            log_event(log, "schedule.login_refused", level=logging.WARNING, agent=s.agent,
                      schedule=s.id, reason=str(exc))  # fmt: skip
            return
        log_event(log, "schedule.login", agent=s.agent, schedule=s.id, device=device)

    def _logout(self, s: LoginSchedule) -> None:
        if not self._known(s):
            return
        view = self.acd.agent_view(s.agent)
        # Only the login the schedule made: an agent who moved to a phone of their own stays.
        if view.state.value == "offline" or view.device != self.device(s):
            return
        try:
            self.runner.run(self.acd.agent_logout, s.agent, reason="schedule ended")
        except AcdError as exc:
            log_event(log, "schedule.logout_refused", level=logging.WARNING, agent=s.agent,
                      schedule=s.id, reason=str(exc))  # fmt: skip
            return
        log_event(log, "schedule.logout", agent=s.agent, schedule=s.id)
