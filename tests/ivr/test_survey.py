"""The NKI survey dialogue against a scripted caller (SPEC S9)."""

from __future__ import annotations

import asyncio

import pytest

from ivr.survey import SurveySettings, run_survey
from tests.ivr.fake_channel import HANGUP, TIMEOUT, FakeChannel

SETTINGS = SurveySettings(questions=("q-agent", "q-solved", "q-again"), answer_timeout=5)


def answers(ch: FakeChannel) -> list[tuple[int, int | None]]:
    return [(d["position"], d["answer"]) for k, d in ch.logged if k == "survey_answer"]


async def test_each_question_is_answered_with_a_key_and_logged() -> None:
    ch = FakeChannel(keys=["4", "5", "1"])
    result = await run_survey(ch, SETTINGS)
    assert [a.answer for a in result] == [4, 5, 1]
    assert answers(ch) == [(1, 4), (2, 5), (3, 1)]
    assert ch.played == ["survey-welcome", "q-agent", "q-solved", "q-again", "survey-thanks"]


async def test_an_invalid_key_repeats_the_question_at_most_twice() -> None:
    ch = FakeChannel(keys=["9", "3", "0", "7", "8", "2"])
    await run_survey(ch, SETTINGS)
    # q1: 9 invalid, then 3. q2: 0, 7 invalid, 8 invalid again: skipped. q3: 2.
    assert answers(ch) == [(1, 3), (2, None), (3, 2)]
    assert ch.played.count("survey-invalid") == 3
    assert ch.played.count("q-solved") == 3  # asked, then repeated twice


async def test_no_key_in_time_skips_the_question() -> None:
    ch = FakeChannel(keys=[TIMEOUT, "5", TIMEOUT])
    await run_survey(ch, SETTINGS)
    assert answers(ch) == [(1, None), (2, 5), (3, None)]
    assert "survey-invalid" not in ch.played


async def test_the_caller_hanging_up_keeps_what_was_answered() -> None:
    ch = FakeChannel(keys=["4", HANGUP])
    with pytest.raises(asyncio.CancelledError):
        await run_survey(ch, SETTINGS)
    assert answers(ch) == [(1, 4)]
    assert "survey-thanks" not in ch.played
