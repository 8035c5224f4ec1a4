"""The keypad satisfaction survey (NKI, SPEC S9): after the agent hangs up first, the
caller is asked each question and answers with a key 1-5 (5 best).

An invalid key hears the invalid-answer prompt and the question again, at most
``max_repeats`` times; no key within ``answer_timeout`` skips the question. Each answer
(or skip) is logged as it is given, so a caller who hangs up half-way keeps what they
answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from .flow import CallerChannel

ANSWER_KEYS = "12345"


@dataclass(frozen=True, slots=True)
class SurveySettings:
    questions: Sequence[str]  # prompt names, asked in order
    welcome: str = "survey-welcome"
    closing: str = "survey-thanks"
    invalid: str = "survey-invalid"
    answer_timeout: float = 6.0
    max_repeats: int = 2


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    position: int  # 1-based question number
    question: str
    answer: int | None  # None: skipped (no key, or invalid keys to the end)


async def run_survey(ch: CallerChannel, settings: SurveySettings) -> list[SurveyAnswer]:
    """Ask every question; returns the answers (also logged as ``survey_answer``)."""
    await ch.log("survey_started", questions=len(settings.questions))
    await ch.play([settings.welcome])
    answers: list[SurveyAnswer] = []
    for position, question in enumerate(settings.questions, 1):
        answer = await _ask(ch, settings, question)
        answers.append(SurveyAnswer(position, question, answer))
        await ch.log("survey_answer", position=position, question=question, answer=answer)
    await ch.play([settings.closing])
    return answers


async def _ask(ch: CallerChannel, settings: SurveySettings, question: str) -> int | None:
    for attempt in range(settings.max_repeats + 1):
        await ch.play([question], barge_in=True)
        # A key pressed during the question stays buffered: collect consumes it once.
        got = await ch.collect_digits(
            1, settings.answer_timeout, settings.answer_timeout, terminator=""
        )
        key = got.digits[:1]
        if got.reason == "hangup":
            raise asyncio.CancelledError  # as the channel does when the caller is gone
        if key and key in ANSWER_KEYS:
            return int(key)
        if not key:
            return None  # no answer skips the question
        if attempt < settings.max_repeats:
            await ch.play([settings.invalid])
    return None
