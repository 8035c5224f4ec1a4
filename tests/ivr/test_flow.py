"""IVR flows: the order of what a caller hears, decided by calendars, hot prompts and keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from acd.calendar import Calendar
from ivr import (
    DEFAULT_STEPS,
    CustomerMatch,
    CustomerNumber,
    DigitResult,
    FlowState,
    MenuChoice,
    Outcome,
    run_flow,
)

WEEKDAYS_8_17 = {
    "timezone": "Europe/Stockholm",
    "hours": {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}
# Monday 2026-11-23 10:30 local (09:30 UTC), an ordinary working day.
MONDAY_MORNING = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class ScriptedCaller:
    """Plays nothing; records what would be played and answers digits from a script.
    Prompts in ``missing`` have no audio: skipped and logged, as the call's leg does."""

    def __init__(
        self, keys: Sequence[str] = (), language: str = "sv", missing: Sequence[str] = ()
    ) -> None:
        self.call_id = "c1"
        self.a_number = "0701234567"
        self.b_number = "100"
        self.language = language
        self.played: list[str] = []
        self.logged: list[tuple[str, dict]] = []
        self.missing = set(missing)
        self._keys = list(keys)

    async def play(self, prompts: Sequence[str], *, barge_in: bool = False) -> str | None:
        for name in prompts:
            if name in self.missing:
                await self.log("prompt_missing", prompt=name)
            else:
                self.played.append(name)
        return None

    def can_play(self, prompt: str) -> bool:
        return prompt not in self.missing

    async def collect_digits(self, max_digits, first_timeout, inter_timeout, terminator="#"):
        if not self._keys:
            return DigitResult("", "timeout")
        return DigitResult(self._keys.pop(0)[:max_digits], "terminator")

    async def record(self, max_seconds: float):
        return None

    async def log(self, kind: str, **data: object) -> None:
        self.logged.append((kind, data))


class Services:
    def __init__(self, calendar: Calendar, hot: list[str] | None = None, at=MONDAY_MORNING):
        self.calendar = calendar
        self.hot = hot or []
        self.at = at
        self.customers = {"4711": CustomerMatch("4711", "VIP AB", priority=50)}

    def now(self) -> datetime:
        return self.at

    def calendar_status(self, queue: str, at: datetime):
        return self.calendar.status(at)

    def hot_prompts(self, queue: str, at: datetime) -> list[str]:
        return list(self.hot)

    def queue_prompt(self, queue: str, slot: str) -> str | None:
        return {"welcome": f"{queue}-welcome"}.get(slot)

    async def lookup_customer(self, number: str):
        return self.customers.get(number)


async def test_open_hours_caller_hears_welcome_then_is_queued() -> None:
    ch = ScriptedCaller()
    out = await run_flow(
        DEFAULT_STEPS, ch, Services(Calendar.from_dict(WEEKDAYS_8_17)), FlowState("support")
    )
    assert out == Outcome("queue", queue="support", priority=0)
    assert ch.played == ["support-welcome"]


async def test_active_hot_prompt_plays_before_anything_else() -> None:
    ch = ScriptedCaller()
    sv = Services(Calendar.from_dict(WEEKDAYS_8_17), hot=["outage"])
    await run_flow(DEFAULT_STEPS, ch, sv, FlowState("support"))
    assert ch.played == ["outage", "support-welcome"]


async def test_closed_deviation_plays_its_own_prompt_in_the_callers_language() -> None:
    cal = Calendar.from_dict(
        {
            **WEEKDAYS_8_17,
            "deviations": [
                {
                    "status": "closed",
                    "time": "10:00-11:00",
                    "prompt": {"sv": "mote-sv", "en": "meeting-en"},
                }
            ],
        }
    )
    ch = ScriptedCaller(language="en")
    out = await run_flow(DEFAULT_STEPS, ch, Services(cal), FlowState("support"))
    assert out.kind == "closed"
    assert ch.played == ["meeting-en"]
    assert ch.logged[0][0] == "closed"


async def test_closed_without_own_prompt_plays_the_night_message() -> None:
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    ch = ScriptedCaller()
    out = await run_flow(
        DEFAULT_STEPS,
        ch,
        Services(Calendar.from_dict(WEEKDAYS_8_17), at=sunday),
        FlowState("support"),
    )
    assert out.kind == "closed" and ch.played == ["closed"]


async def test_menu_retries_an_invalid_key_then_routes_to_the_chosen_queue() -> None:
    menu = MenuChoice(
        "menu-example",
        {"1": Outcome("queue", queue="support"), "2": Outcome("queue", queue="sales", priority=5)},
    )
    ch = ScriptedCaller(keys=["7", "2"])
    out = await run_flow(
        [menu], ch, Services(Calendar.from_dict(WEEKDAYS_8_17)), FlowState("support")
    )
    assert out == Outcome("queue", queue="sales", priority=5)
    assert ch.played == ["menu-example", "invalid-choice", "menu-example"]


async def test_known_customer_number_raises_priority() -> None:
    ch = ScriptedCaller(keys=["4711"])
    out = await run_flow(
        [CustomerNumber()], ch, Services(Calendar.from_dict(WEEKDAYS_8_17)), FlowState("support")
    )
    assert out.priority == 50
    # The CRM's match goes into the call log too (the agent client's screen pop shows it).
    logged = ("customer_number", {"digits": "4711", "matched": True, "customer_id": "4711",
                                  "name": "VIP AB"})  # fmt: skip
    assert logged in ch.logged
