"""The flow steps: hot prompt, calendar check, welcome, menu choice, customer number."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .flow import CallerChannel, FlowServices, FlowState, Outcome


async def hot_prompt(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    """Active hot prompts play first to every caller (SPEC S7)."""
    prompts = sv.hot_prompts(st.queue, sv.now())
    if prompts:
        await ch.log("hot_prompt", prompts=prompts)
        await ch.play(prompts)
    return None


async def calendar_check(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    """Closed: the deviation's own prompt (in the caller's language) or the night message."""
    decision = sv.calendar_status(st.queue, sv.now())
    if decision.open:
        return None
    own = (decision.prompt or {}).get(ch.language) if decision.prompt else None
    prompt = own or sv.queue_prompt(st.queue, "closed") or "closed"
    await ch.log("closed", rule=decision.rule, detail=decision.detail, prompt=prompt)
    await ch.play([prompt])
    return Outcome("closed", queue=st.queue, data={"rule": decision.rule})


async def welcome(ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
    prompt = sv.queue_prompt(st.queue, "welcome") or "welcome"
    await ch.play([prompt])
    return None


@dataclass(frozen=True)
class MenuChoice:
    """DTMF menu: each key leads to a queue or a service; invalid keys are retried."""

    prompt: str
    choices: Mapping[str, Outcome]
    retries: int = 2
    timeout: float = 5.0
    invalid_prompt: str = "invalid-choice"

    async def __call__(self, ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
        for _attempt in range(self.retries + 1):
            key = await ch.play([self.prompt], barge_in=True)
            if key is None:
                result = await ch.collect_digits(1, self.timeout, self.timeout, terminator="")
                if result.reason == "hangup":
                    return Outcome("hangup")
                key = result.digits[:1] or None
            if key is not None and key in self.choices:
                choice = self.choices[key]
                await ch.log("menu_choice", key=key, target=choice.queue or choice.service)
                if choice.kind == "queue":
                    st.queue = choice.queue or st.queue
                    st.priority = max(st.priority, choice.priority)
                    return None
                return choice
            await ch.log("menu_invalid", key=key)
            await ch.play([self.invalid_prompt])
        return None  # no valid choice: stay in the current queue


@dataclass(frozen=True)
class CustomerNumber:
    """Customer-number input looked up in the CRM; a match may raise priority or route."""

    prompt: str = "enter-customer-number"
    max_digits: int = 12
    timeout: float = 8.0

    async def __call__(self, ch: CallerChannel, sv: FlowServices, st: FlowState) -> Outcome | None:
        await ch.play([self.prompt])
        result = await ch.collect_digits(self.max_digits, self.timeout, 3.0, terminator="#")
        if result.reason == "hangup":
            return Outcome("hangup")
        if not result.digits:
            return None
        match = await sv.lookup_customer(result.digits)
        await ch.log("customer_number", digits=result.digits, matched=match is not None)
        if match is not None:
            st.customer = match
            st.priority = max(st.priority, match.priority)
            if match.queue:
                st.queue = match.queue
        return None


DEFAULT_STEPS = (hot_prompt, calendar_check, welcome)
