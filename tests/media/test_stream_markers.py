"""RFC 3551 4.1: the marker bit is set on the first packet of a talkspurt only.

Each scenario drives an ``OutboundStream`` frame by frame the way the engine does: a
``play()`` awaited after another one resumes between two frames (the player's ``on_done``
fires inside ``next_packet``, the coroutine runs before the stream's next frame).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from aiortc.rtp import RtpPacket

from media.prompts import EncodedPrompt
from media.rtp import RtpSession
from media.stream import OutboundStream, Player

A, B, BRIDGED = 0x11, 0x33, 0x22


def stream() -> OutboundStream:
    s = RtpSession(rng=random.Random(9))
    s.set_remote("192.0.2.1", 5000)
    return OutboundStream(s, "PCMU")


def prompt(frames: int, byte: int) -> EncodedPrompt:
    return EncodedPrompt("PCMU", tuple(bytes([byte]) * 160 for _ in range(frames)))


def run(s: OutboundStream, frames: int, between: Callable[[int], None] = lambda i: None):
    """``frames`` clock frames; ``between(i)`` runs after frame i (the coroutines' turn)."""
    out: list[RtpPacket] = []
    for i in range(frames):
        pkt = s.next_packet()
        if pkt is not None:
            out.append(RtpPacket.parse(pkt))
        between(i)
    return out


def assert_continuous(pkts: list[RtpPacket]) -> None:
    seqs = [p.sequence_number for p in pkts]
    ts = [p.timestamp for p in pkts]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    assert all((b - a) & 0xFFFFFFFF == 160 for a, b in zip(ts, ts[1:], strict=False))


def markers_at(pkts: list[RtpPacket]) -> list[int]:
    return [i for i, p in enumerate(pkts) if p.marker]


def first_of(pkts: list[RtpPacket], byte: int) -> int:
    return next(i for i, p in enumerate(pkts) if p.payload[0] == byte)


def test_a_prompt_following_another_marks_only_the_new_prompts_first_packet():
    s = stream()
    queued: list[Player] = []

    def after_a(_p: Player, _reason: str) -> None:
        queued.append(Player([prompt(4, B)]))

    run(s, 3)  # idle silence before the caller hears anything
    s.play(Player([prompt(4, A)], on_done=after_a))
    pkts = run(s, 12, lambda i: queued and s.play(queued.pop()))
    assert_continuous(pkts)
    assert markers_at(pkts) == [first_of(pkts, A), first_of(pkts, B)]


def test_play_after_silence_marks_the_prompts_first_packet_once():
    s = stream()
    head = run(s, 5)
    assert markers_at(head) == [0]  # the stream's first packet
    s.play(Player([prompt(3, A)]))
    pkts = run(s, 8)
    assert_continuous(head + pkts)
    assert markers_at(pkts) == [first_of(pkts, A)]


def test_hold_music_loop_is_one_talkspurt():
    s = stream()
    run(s, 2)
    s.play(Player([prompt(3, A), prompt(2, B)], loop=True))
    pkts = run(s, 17)  # more than three rounds of the loop
    assert_continuous(pkts)
    assert markers_at(pkts) == [0]


def test_switch_from_prompt_to_bridged_audio_marks_the_bridge_once():
    s = stream()
    run(s, 2)

    def agent_answers(_p: Player, _reason: str) -> None:
        s.start_bridge()
        s.push_bridge_audio(bytes([BRIDGED]) * 160 * 4)

    s.play(Player([prompt(3, A)], on_done=agent_answers))
    pkts = run(s, 7)
    assert_continuous(pkts)
    assert markers_at(pkts) == [first_of(pkts, A), first_of(pkts, BRIDGED)]


def test_bridge_started_after_the_prompt_returned_marks_the_bridge_once():
    s = stream()
    ended: list[str] = []
    run(s, 2)
    s.play(Player([prompt(3, A)], on_done=lambda _p, r: ended.append(r)))

    def controller_bridges(_i: int) -> None:  # ``await leg.play(...)`` returned
        if ended and s.bridge_buffer is None:
            s.start_bridge()
        s.push_bridge_audio(bytes([BRIDGED]) * 160)  # the agent's audio, 20 ms a frame

    pkts = run(s, 8, controller_bridges)
    assert_continuous(pkts)
    assert markers_at(pkts) == [first_of(pkts, A), first_of(pkts, BRIDGED)]


def test_bridge_started_under_a_playing_prompt_marks_nothing_until_the_bridge_is_heard():
    s = stream()
    s.play(Player([prompt(4, A)]))
    s.start_bridge()
    s.push_bridge_audio(bytes([BRIDGED]) * 160 * 3)
    pkts = run(s, 7)
    assert_continuous(pkts)
    assert markers_at(pkts) == [0, first_of(pkts, BRIDGED)]


def test_no_two_consecutive_markers_when_a_prompt_starts_right_after_the_first_packet():
    s = stream()
    head = run(s, 1)
    s.play(Player([prompt(3, A)]))
    pkts = head + run(s, 3)
    assert_continuous(pkts)
    assert markers_at(pkts) == [0]


def test_a_gap_still_marks_the_next_packet():
    s = stream()
    run(s, 2)
    s.skip_frames(3)
    p = run(s, 2)
    assert markers_at(p) == [0]
