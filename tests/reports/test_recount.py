"""Every figure of the Rollup equals a brute-force recount of the same call log; the logs
come from the real call core and ACD driven by random calls in virtual time (hypothesis),
across DST changes, midnights and month ends, in every interval length."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd import Acd, AgentConfig, AnswerGroup, GroupMembership, QueueConfig
from acd.errors import AcdError
from callcore import actions as A
from callcore import events as E
from reports import QueueRules, Rollup
from tests.callcore.world import World
from tests.reports.recount import SUMS_A, SUMS_Q, recount

STHLM = ZoneInfo("Europe/Stockholm")
STARTS = [
    datetime(2026, 3, 29, 1, 40, tzinfo=STHLM),  # the spring jump at 02:00
    datetime(2026, 10, 25, 2, 40, fold=0, tzinfo=STHLM),  # the autumn repeated hour
    datetime(2026, 11, 30, 23, 45, tzinfo=STHLM),  # midnight, a month's and a week's end
    datetime(2026, 6, 14, 10, 7, 30, tzinfo=STHLM),
]
MOS = [4.3, 2.8, 3.1, 4.1, 1.9]


class MosWorld(World):
    """The test world with the MOS of each call varying, some calls without one."""

    def _ReleaseMedia(self, a: A.ReleaseMedia) -> None:  # noqa: N802
        self.music.pop(a.key, None)
        n = len(self.hung_up) + len(self.forgotten)
        mos = MOS[n % len(MOS)] if n % 7 else None
        self.feed(E.MediaClosed(a.key, {"caller": {"sent": 1}}, mos=mos))


def make_acd() -> Acd:
    queues = [
        QueueConfig(
            id="q",
            answer_groups=("g",),
            ring_timeout=15,
            wrap_up=30,
            max_wait=60,
            max_wait_target="q2",
        ),  # fmt: skip
        QueueConfig(
            id="q2",
            answer_groups=("g", "h"),
            ring_timeout=10,
            max_wait=90,
            max_wait_target="voicemail",
            service_level_seconds=30,
        ),  # fmt: skip
        QueueConfig(id="closedq", answer_groups=("g",)),
    ]
    agents = [
        AgentConfig(id=f"a{i}", memberships=(GroupMembership("g" if i < 2 else "h"),))
        for i in range(4)
    ]
    return Acd(queues, [AnswerGroup("g"), AnswerGroup("h")], agents)


_CALL = st.tuples(st.just("call"), st.sampled_from(["100", "100", "101", "199", "192"]))
_ANSWER = st.tuples(st.just("answer"), st.integers(0, 9))
_SHORT = st.tuples(st.just("advance"), st.floats(0.5, 40.0))
OPS = st.lists(
    st.one_of(
        _CALL,
        _CALL,
        _CALL,
        _ANSWER,
        _ANSWER,
        _ANSWER,
        _SHORT,
        _SHORT,
        st.tuples(st.just("fail"), st.integers(0, 9)),
        st.tuples(st.just("caller_bye"), st.integers(0, 9)),
        st.tuples(st.just("agent_bye"), st.integers(0, 9)),
        st.tuples(st.just("agent_bye"), st.integers(0, 9)),
        st.tuples(st.just("voicemail"), st.integers(0, 9)),
        st.tuples(st.just("advance"), st.sampled_from([1.0, 5.0, 20.0, 30.0])),
        st.tuples(st.just("long"), st.floats(100.0, 1800.0)),
        st.tuples(st.just("pause"), st.integers(0, 3), st.sampled_from(["lunch", "meeting"])),
        st.tuples(st.just("ready"), st.integers(0, 3)),
        st.tuples(st.just("logout"), st.integers(0, 3)),
        st.tuples(st.just("login"), st.integers(0, 3)),
    ),
    min_size=15,
    max_size=80,
)


def _pick(items: list, i: int):  # noqa: ANN001, ANN202
    return items[i % len(items)] if items else None


def drive(w: World, ops: list) -> None:
    w.login("a0", "a1", "a2")
    for op, arg, *more in ops:
        live = list(w.core.calls)
        try:
            if op == "call":
                key = w.answered_call(arg)
                if arg == "199":
                    w.feed(E.Note(key, "closed", {"rule": "weekly"}))
                    w.feed(E.FlowFinished(key, "closed", queue="closedq"))
                elif arg in ("100", "101"):
                    q = w.core.calls[key].target.queue
                    w.feed(E.FlowFinished(key, "queue", queue=q))
            elif op == "answer" and (pair := _pick(sorted(w.ringing), arg)):
                w.feed(E.AgentAnswered(*pair))
            elif op == "fail" and (pair := _pick(sorted(w.ringing), arg)):
                w.feed(E.AgentOfferFailed(*pair, "rejected: 486 Busy Here", rejected=True))
            elif op == "caller_bye" and (key := _pick(live, arg)):
                w.feed(E.CallerGone(key, "hangup"))
            elif op == "agent_bye" and (pair := _pick(sorted(w.bridged.items()), arg)):
                w.feed(E.AgentGone(*pair, "hangup"))
            elif op == "voicemail" and (key := _pick(sorted(w.services), arg)):
                if key in w.core.calls and w.services[key].service == "voicemail":
                    w.feed(E.Note(key, "voicemail_stored", {"seconds": 12}))
                w.feed(E.ServiceFinished(key))
            elif op in ("advance", "long"):
                w.advance(arg)
            elif op == "pause":
                w.acd_do("agent_pause", f"a{arg}", more[0])
            elif op == "ready":
                w.acd_do("agent_ready", f"a{arg}")
            elif op == "logout":
                w.acd_do("agent_logout", f"a{arg}")
            elif op == "login":
                w.login(f"a{arg}")
        except AcdError:
            pass  # an operation the agent's state does not allow: nothing happened
    for key in list(w.core.calls):
        w.feed(E.CallerGone(key, "hangup"))
    w.advance(60)


def _nonzero(d: dict[tuple[str, float], dict[str, Any]], names: list[str]) -> dict:
    return {k: v for k, v in d.items() if any(v[n] for n in names)}


def check(w: World, interval: str) -> None:
    rules = {"q2": QueueRules(service_level_seconds=30, short_abandon_seconds=5)}
    r = Rollup(STHLM, interval, rules=rules)
    r.add_all(w.log)
    want_q, want_a = recount(w.log, STHLM, interval)
    want_q = {k: v for k, v in want_q.items() if k[0] != "q2"}  # q2 has its own threshold
    want_q2, _ = recount(w.log, STHLM, interval, sl=30)
    want_q.update({k: v for k, v in want_q2.items() if k[0] == "q2"})
    got_q = {(f.queue, f.start.timestamp()): f.as_dict() for f in r.queue_figures()}
    got_a = {(f.agent, f.start.timestamp()): f.as_dict() for f in r.agent_figures()}
    got_q, want_q = _nonzero(got_q, SUMS_Q), _nonzero(want_q, SUMS_Q)
    got_a, want_a = _nonzero(got_a, SUMS_A), _nonzero(want_a, SUMS_A)
    assert sorted(got_q) == sorted(want_q)
    for k, want in want_q.items():
        for name in SUMS_Q:
            assert got_q[k][name] == pytest.approx(want[name], abs=1e-6), (k, name)
    assert sorted(got_a) == sorted(want_a)
    for k, want in want_a.items():
        for name in SUMS_A:
            assert got_a[k][name] == pytest.approx(want[name], abs=1e-6), (k, name)
        reasons = {r: s for r, s in want["paused_by_reason"].items() if s}
        assert got_a[k]["paused_by_reason"] == pytest.approx(reasons, abs=1e-6), k
    assert r.live_calls() == 0, "a finished call is still followed"


@settings(max_examples=200, deadline=None)
@given(
    OPS,
    st.sampled_from(STARTS),
    st.sampled_from(["15min", "hour", "day", "week", "month"]),
)
def test_the_rollup_equals_a_brute_force_recount_of_random_call_logs(
    ops: list, start: datetime, interval: str
) -> None:
    w = MosWorld(acd=make_acd(), now=start.timestamp())
    drive(w, ops)
    check(w, interval)


def test_a_busy_simulated_hour_equals_its_recount_in_every_interval() -> None:
    w = MosWorld(acd=make_acd(), now=STARTS[1].timestamp())
    w.login("a0", "a1", "a2", "a3")
    for n in range(150):
        w.advance(7.0 + n % 13)
        for agent in ("a0", "a1", "a2", "a3"):
            if not w.acd.is_logged_in(agent):  # five unanswered offers logged it out
                w.login(agent)
        key = w.answered_call("100" if n % 3 else "101")
        w.feed(E.FlowFinished(key, "queue", queue=w.core.calls[key].target.queue))
        if n % 6:
            for pair in sorted(w.ringing)[: n % 3]:
                w.feed(E.AgentAnswered(*pair))
        for pair in sorted(w.bridged.items())[: n % 2]:
            w.feed(E.AgentGone(*pair, "hangup"))
        if n % 5 == 0 and w.core.calls:
            w.feed(E.CallerGone(sorted(w.core.calls)[0], "hangup"))
        if n % 25 == 0:
            w.acd_do("agent_pause", "a3", "lunch") if n % 50 else w.acd_do("agent_ready", "a3")
    drive(w, [])
    kinds = {e.kind for e in w.log}
    assert {"answered", "abandoned", "overflowed", "wrap_up_ended", "no_answer"} <= kinds
    for interval in ("15min", "hour", "day"):
        check(w, interval)
