"""The flow steps: hot prompt, calendar check, closed message, welcome, menu choice,
customer number, queue and voicemail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .flow import CallerChannel, FlowServices, FlowState, Outcome, Step


async def hot_prompt(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    """Active hot prompts play first to every caller (SPEC S7)."""
    prompts = sv.hot_prompts(st.queue, sv.now())
    if prompts:
        await ch.log("hot_prompt", prompts=prompts)
        await ch.play(prompts)
    return None


def _first_playable(ch: CallerChannel, *names: str | None) -> tuple[str, list[str]]:
    """The first of ``names`` that has audio, and those skipped before it. The last name is
    a standard prompt: a stored one deleted since the start leaves that, not silence."""
    candidates = [n for n in names if n]
    skipped: list[str] = []
    for name in candidates[:-1]:
        if ch.can_play(name):
            return name, skipped
        skipped.append(name)
    return candidates[-1], skipped


async def _play_first(ch: CallerChannel, *names: str | None) -> None:
    prompt, skipped = _first_playable(ch, *names)
    for name in skipped:
        await ch.log("prompt_missing", prompt=name, instead=prompt)
    await ch.play([prompt])


def _closed_prompts(ch: CallerChannel, sv: FlowServices, st: FlowState) -> list[str | None]:
    """The deviation's own prompt in the caller's language, else the queue's night message."""
    decision = st.closed
    own = (decision.prompt or {}).get(ch.language) if decision is not None else None
    return [own, sv.queue_prompt(st.queue, "closed"), "closed"]


async def closed_message(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    await _play_first(ch, *_closed_prompts(ch, sv, st))
    return None


async def to_queue(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    return Outcome("queue", queue=st.queue, priority=st.priority)


async def voicemail(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    """Hand the caller to the voicemail service, for the current queue's mailbox."""
    return Outcome("voicemail", queue=st.queue, service="voicemail")


@dataclass(frozen=True)
class CalendarCheck:
    """Open: go on. Closed: run ``closed_steps`` (closed message, voicemail) and end the call."""

    closed_steps: Sequence[Step] = (closed_message,)

    async def __call__(self, ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
        decision = sv.calendar_status(st.queue, sv.now())
        if decision.open:
            return None
        st.closed = decision
        prompt, _ = _first_playable(ch, *_closed_prompts(ch, sv, st))
        await ch.log("closed", rule=decision.rule, detail=decision.detail, prompt=prompt)
        for step in self.closed_steps:
            outcome = await step(ch, sv, st)
            if outcome is not None:
                return outcome
        return Outcome("closed", queue=st.queue, data={"rule": decision.rule})


calendar_check = CalendarCheck()


async def welcome(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    await _play_first(ch, sv.queue_prompt(st.queue, "welcome"), "welcome")
    return None


@dataclass(frozen=True)
class MenuChoice:
    """DTMF menu: each key leads to a queue, a service or another number; invalid keys and
    silence are retried. A queue choice switches the queue and the flow goes on."""

    prompt: str
    choices: Mapping[str, Outcome]
    retries: int = 2
    timeout: float = 5.0
    invalid_prompt: str = "invalid-choice"
    no_choice: Outcome | None = None  # after the last retry; None: stay in the current queue

    async def __call__(self, ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
        if not ch.can_play(self.prompt):
            # Nobody can choose from a menu they do not hear: waiting for a key would be
            # dead air, so the caller goes on as if no key was pressed.
            await ch.log("prompt_missing", prompt=self.prompt, step="menu")
            return await self._no_choice(ch, st)
        for _attempt in range(self.retries + 1):
            await ch.play([self.prompt], barge_in=True)
            # A key pressed during the prompt stays buffered: collect it (or wait for one)
            # so that it is consumed once and not seen again by a later step.
            result = await ch.collect_digits(1, self.timeout, self.timeout, terminator="")
            if result.reason == "hangup":
                return Outcome("hangup")
            key = result.digits[:1] or None
            if key is not None and key in self.choices:
                choice = self.choices[key]
                await ch.log("menu_choice", key=key, target=_target(choice))
                return _follow(choice, st)
            await ch.log("menu_invalid", key=key)
            if key is not None:
                await ch.play([self.invalid_prompt])  # silence just hears the menu again
        return await self._no_choice(ch, st)

    async def _no_choice(self, ch: CallerChannel, st: FlowState) -> Outcome | None:
        if self.no_choice is not None:
            await ch.log("menu_no_choice", target=_target(self.no_choice))
            return _follow(self.no_choice, st)
        return None


def _target(choice: Outcome) -> str | None:
    return choice.queue or choice.service or str(choice.data.get("number") or "") or None


def _follow(choice: Outcome, st: FlowState) -> Outcome | None:
    if choice.kind == "queue":
        st.queue = choice.queue or st.queue
        st.priority = max(st.priority, choice.priority)
        return None
    if choice.kind == "voicemail":
        return Outcome("voicemail", queue=st.queue, service="voicemail")
    return choice


@dataclass(frozen=True)
class CustomerNumber:
    """Customer-number input looked up in the CRM; a match may raise priority or route."""

    prompt: str = "enter-customer-number"
    max_digits: int = 12
    timeout: float = 8.0
    digit_timeout: float = 3.0

    async def __call__(self, ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
        if not ch.can_play(self.prompt):
            # Unasked, the caller keys nothing: go on as with no digits, without the wait.
            await ch.log("prompt_missing", prompt=self.prompt, step="customer-number")
            return None
        await ch.play([self.prompt], barge_in=True)
        result = await ch.collect_digits(
            self.max_digits, self.timeout, self.digit_timeout, terminator="#"
        )
        if result.reason == "hangup":
            return Outcome("hangup")
        if not result.digits:
            return None
        match = await sv.lookup_customer(result.digits)
        await ch.log(
            "customer_number",
            digits=result.digits,
            matched=match is not None,
            customer_id=match.customer_id if match is not None else None,
            name=match.name if match is not None else None,
        )
        if match is not None:
            st.customer = match
            st.priority = max(st.priority, match.priority)
            if match.queue:
                st.queue = match.queue
        return None


DEFAULT_STEPS = (hot_prompt, calendar_check, welcome)
