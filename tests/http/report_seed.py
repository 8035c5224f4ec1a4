"""A known hour of call-log events for the report-centre tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from calllog import AGENT_CALL_ID, CallEvent
from vaxel.storage import CallLog

ZONE = ZoneInfo("Europe/Stockholm")
# A Tuesday; the server's (fake) clock is set on this day.
DAY = datetime(2026, 3, 10, tzinfo=ZONE)


def at(hour: int, minute: int = 0, second: float = 0) -> datetime:
    return (DAY + timedelta(hours=hour, minutes=minute, seconds=second)).astimezone(UTC)


def hour_of_events() -> list[CallEvent]:
    """09:00-10:00: agent 1001 answers c1 after 8 s (talk 120 s, wrap-up 10 s, NKI 4 and 5),
    c2 abandons after 40 s, c3 after 2 s (a short abandon); 1002 is paused meanwhile."""

    def ev(call: str, kind: str, t: datetime, agent: str | None = None, **data: object):
        return CallEvent(call, kind, t, "support" if call != AGENT_CALL_ID else None, agent,
                         "0701234567" if call != AGENT_CALL_ID else None,
                         "100" if call != AGENT_CALL_ID else None, data or None)  # fmt: skip

    t0 = at(9, 0, 0)
    s = timedelta(seconds=1)
    return [
        ev(AGENT_CALL_ID, "login", at(8, 55), "1001", device="sip:1001"),
        ev(AGENT_CALL_ID, "login", at(8, 56), "1002", device="sip:1002"),
        ev(AGENT_CALL_ID, "pause", at(8, 57), "1002", reason="meeting"),
        ev("c1", "incoming", t0),
        ev("c1", "arrived", t0, priority=0),
        ev("c1", "queued", t0, position=1),
        ev("c1", "offered", t0 + 2 * s, "1001", device="sip:1001"),
        ev("c1", "answered", t0 + 8 * s, "1001", wait=8.0),
        ev("c2", "incoming", t0 + 30 * s),
        ev("c2", "arrived", t0 + 30 * s, priority=0),
        ev("c2", "queued", t0 + 30 * s, position=1),
        ev("c3", "incoming", t0 + 50 * s),
        ev("c3", "arrived", t0 + 50 * s, priority=0),
        ev("c3", "queued", t0 + 50 * s, position=2),
        ev("c3", "abandoned", t0 + 52 * s, wait=2.0),
        ev("c3", "hangup", t0 + 52 * s, cause="cancelled", ended_by="caller"),
        ev("c2", "abandoned", t0 + 70 * s, wait=40.0),
        ev("c2", "hangup", t0 + 70 * s, ended_by="caller"),
        ev("c1", "ended", t0 + 128 * s, "1001", talk=120.0, reason="agent hung up"),
        ev("c1", "wrap_up_started", t0 + 128 * s, "1001"),
        ev("c1", "survey_started", t0 + 128 * s, "1001"),
        ev(
            "c1",
            "survey_answer",
            t0 + 135 * s,
            "1001",
            position=1,
            question="survey-q-agent",
            answer=4,
        ),  # fmt: skip
        ev(
            "c1",
            "survey_answer",
            t0 + 140 * s,
            "1001",
            position=2,
            question="survey-q-resolved",
            answer=5,
        ),  # fmt: skip
        ev("c1", "wrap_up_ended", t0 + 138 * s, "1001", wrap_up=10.0),
        ev("c1", "hangup", t0 + 142 * s, "1001", mos=4.2, ended_by="agent"),
        ev(AGENT_CALL_ID, "ready", at(9, 30), "1002"),
        ev(AGENT_CALL_ID, "logout", at(9, 45), "1002", reason="end of shift"),
    ]


async def seed(calllog: CallLog) -> None:
    events = sorted(hour_of_events(), key=lambda e: e.at)
    await calllog.append(*events)
