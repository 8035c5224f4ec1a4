"""Booking a callback against a scripted caller."""

from __future__ import annotations

from ivr.callback import book_callback
from tests.ivr.fake_channel import TIMEOUT, FakeChannel


async def test_one_takes_the_callers_own_number() -> None:
    ch = FakeChannel(keys=["1"], a_number="0701234567")
    assert await book_callback(ch) == "0701234567"
    assert ch.played == ["callback-number"]


async def test_two_asks_for_another_number_ended_with_hash() -> None:
    ch = FakeChannel(keys=["2", "0709876543#"], a_number="0701234567")
    assert await book_callback(ch) == "0709876543"
    assert ch.played == ["callback-number", "callback-enter-number"]


async def test_a_hidden_caller_id_must_key_a_number() -> None:
    ch = FakeChannel(keys=["0709876543#"], a_number=None)
    assert await book_callback(ch) == "0709876543"
    assert ch.played == ["callback-enter-number"]


async def test_nothing_usable_books_nothing() -> None:
    ch = FakeChannel(keys=["9", TIMEOUT, "2", "12#"], a_number="0701234567")
    assert await book_callback(ch, retries=1) is None
    assert [k for k, _ in ch.logged] == ["callback_number_invalid", "callback_number_invalid"]
