"""The flow example in docs/ivr.md is a valid configuration and behaves as described."""

from __future__ import annotations

import re
from pathlib import Path

from acd.calendar import Calendar
from config import parse_config
from ivr import FlowPlan, FlowState, Outcome
from tests.ivr.test_flow import WEEKDAYS_8_17, ScriptedCaller, Services

DOC = Path(__file__).resolve().parents[2] / "docs" / "ivr.md"
REST = """
[api]
tokens = ["a-token-for-docs"]
[answer_groups.g]
[queues.support]
answer_groups = ["g"]
voicemail_email = "support@localhost"
[queues.sales]
answer_groups = ["g"]
"""


def documented_config():
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.S)
    (example,) = [b for b in blocks if "[numbers]" in b]
    return parse_config(example + REST, source="docs/ivr.md")


async def test_documented_flows_are_valid_and_route_as_described() -> None:
    plan = FlowPlan.from_config(documented_config())
    assert plan.flow_name("100", "support") == "support"
    assert plan.flow_name("101", "sales") is None
    services = Services(Calendar.from_dict(WEEKDAYS_8_17))
    ch = ScriptedCaller(keys=["3", "4711"])
    out = await plan.run("100", ch, services, FlowState("support"))
    assert out == Outcome("queue", queue="support", priority=50)
    assert ch.played == [
        "support-welcome",
        "support-menu",
        "support-welcome",
        "key-customer-number",
    ]
    out = await plan.run("100", ScriptedCaller(keys=["0"]), services, FlowState("support"))
    assert out == Outcome("voicemail", queue="support", service="voicemail")
