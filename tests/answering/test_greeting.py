"""What a caller of a company's B-number hears, decided by the company's own calendar in
virtual time: the company's greeting and the control queue, or its night message."""

from __future__ import annotations

from datetime import timedelta

from acd import Calendar
from answering import Company, CompanyBook, CompanyFlows
from ivr import FlowPlan, FlowState, NumberEntry
from tests.ivr.test_flow import MONDAY_MORNING, WEEKDAYS_8_17, ScriptedCaller, Services

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {"timezone": "Europe/Stockholm", "hours": {d: ["00:00-24:00"] for d in DAYS}}
ACME = Company("acme", "Acme AB", ("0850001",), "acme-hello", "acme-night", "acme-hours")
PLAN = FlowPlan({}, {"0850001": NumberEntry(queue="switchboard"), "100": NumberEntry("support")})


def flows(at_calendar: dict = WEEKDAYS_8_17) -> CompanyFlows:
    return CompanyFlows(PLAN, lambda: CompanyBook([ACME]), {"acme-hours": Calendar(at_calendar)})


async def run(number: str, services: Services, ch: ScriptedCaller | None = None):
    ch = ch or ScriptedCaller()
    outcome = await flows().run(number, ch, services, FlowState("switchboard"))
    return outcome, ch


async def test_open_company_greets_in_its_name_and_queues_in_the_control_queue() -> None:
    # The control queue's own calendar says closed: the company's calendar decides.
    services = Services(Calendar({"timezone": "UTC", "hours": {}}))
    outcome, ch = await run("0850001", services)
    assert outcome.kind == "queue" and outcome.queue == "switchboard"
    assert ch.played == ["acme-hello"]
    assert ch.logged[0] == ("company", {"company": "acme", "name": "Acme AB"})


async def test_closed_company_plays_its_night_message_and_the_call_ends() -> None:
    services = Services(Calendar(ALWAYS), at=MONDAY_MORNING + timedelta(hours=10))  # 20:30
    outcome, ch = await run("0850001", services)
    assert outcome.kind == "closed" and outcome.data == {"company": "acme"}
    assert ch.played == ["acme-night"]
    assert [k for k, _ in ch.logged] == ["company", "closed"]


async def test_a_missing_greeting_falls_back_to_the_standard_welcome() -> None:
    ch = ScriptedCaller(missing=["acme-hello"])
    outcome, ch = await run("0850001", Services(Calendar(ALWAYS)), ch)
    assert ch.played == ["welcome"]
    assert ("prompt_missing", {"prompt": "acme-hello", "instead": "welcome"}) in ch.logged


async def test_a_company_without_a_calendar_follows_the_control_queue() -> None:
    plain = Company("plain", "Plain AB", ("0850001",))
    services = Services(Calendar(WEEKDAYS_8_17), at=MONDAY_MORNING + timedelta(days=5))  # Sat
    cf = CompanyFlows(PLAN, lambda: CompanyBook([plain]), {})
    ch = ScriptedCaller()
    outcome = await cf.run("0850001", ch, services, FlowState("switchboard"))
    assert outcome.kind == "closed" and ch.played == ["closed"]


async def test_other_numbers_run_their_own_flow() -> None:
    outcome, ch = await run("100", Services(Calendar(ALWAYS)))
    assert outcome.kind == "queue" and ch.played == ["switchboard-welcome"]  # the queue slot
    assert not any(k == "company" for k, _ in ch.logged)


async def test_a_changed_book_is_seen_by_the_next_call() -> None:
    book = [CompanyBook()]
    cf = CompanyFlows(PLAN, lambda: book[0], {})
    ch = ScriptedCaller()
    await cf.run("0850001", ch, Services(Calendar(ALWAYS)), FlowState("switchboard"))
    assert not any(k == "company" for k, _ in ch.logged)
    book[0] = CompanyBook([ACME])
    ch = ScriptedCaller()
    await cf.run("0850001", ch, Services(Calendar(ALWAYS)), FlowState("switchboard"))
    assert ch.logged[0][0] == "company"
