"""Per-source limits and bans (sip.guard) in virtual time: floods, early dialogs, TCP gate."""

from __future__ import annotations

from sip.guard import (
    Banned,
    GuardPolicy,
    LineBudget,
    RateLimit,
    SourceGuard,
    TcpGate,
    TcpPolicy,
    Unbanned,
)
from tests.sip.test_transaction import is_status, make_ua, request_bytes

FLOODER = "203.0.113.66"
CALLER = "198.51.100.7"


def _notices(guard: SourceGuard) -> list[object]:
    out = []
    while (n := guard.next_notice()) is not None:
        out.append(n)
    return out


def test_500_invites_a_second_from_one_address_ban_it_and_the_ban_expires() -> None:
    guard = SourceGuard(GuardPolicy(ban_seconds=300))
    now = 0.0
    verdicts = []
    legit = []
    for i in range(1000):  # two seconds at 500/s
        now = i / 500
        verdicts.append(guard.admit(FLOODER, "INVITE", now))
        if i % 100 == 0:  # a real caller from elsewhere, five times a second
            legit.append(guard.admit(CALLER, "INVITE", now))
    assert set(legit) == {"accept"}
    assert verdicts[:30] == ["accept"] * 30  # the burst
    assert verdicts.count("accept") < 45  # then only what the sustained rate allows
    assert guard.is_banned(FLOODER, now)
    (banned,) = _notices(guard)  # one notice for a thousand packets
    assert isinstance(banned, Banned) and banned.address == FLOODER and banned.seconds == 300
    (ban,) = guard.bans(now)
    assert ban.until == ban.since + 300 and ban.since < 0.2
    # While banned, responses and requests alike are dropped without a notice each.
    assert guard.admit(FLOODER, "OPTIONS", now + 100) == "drop"
    assert guard.admit(FLOODER, None, now + 100) == "drop"
    assert _notices(guard) == []
    # The guard's timer reaches the ban's end: one unban line, counting what was dropped.
    while (deadline := guard.get_timer()) is not None and deadline < ban.until:
        guard.handle_timer(deadline)
    assert guard.get_timer() == ban.until
    guard.handle_timer(ban.until)
    (unbanned,) = _notices(guard)
    assert isinstance(unbanned, Unbanned) and unbanned.reason == "expired"
    assert unbanned.dropped > 900
    assert guard.admit(FLOODER, "INVITE", ban.until + 1) == "accept"


def test_a_repeat_offender_is_banned_twice_as_long_each_time_up_to_the_maximum() -> None:
    guard = SourceGuard(GuardPolicy(ban_after=1, ban_seconds=10, ban_max_seconds=25))
    lengths = []
    now = 0.0
    for _ in range(4):
        while guard.admit(FLOODER, "INVITE", now) == "accept":
            pass
        (ban,) = guard.bans(now)
        lengths.append(ban.until - ban.since)
        now = ban.until
        guard.handle_timer(now)
    assert lengths == [10, 20, 25, 25]


def test_trusted_networks_and_trunk_hosts_are_never_limited() -> None:
    guard = SourceGuard(GuardPolicy(trusted=("10.1.0.0/16",), ban_after=1))
    guard.trust("192.0.2.5")
    for i in range(2000):
        assert guard.admit("10.1.2.3", "INVITE", i / 1000) == "accept"
        assert guard.admit("192.0.2.5", "REGISTER", i / 1000) == "accept"
    assert guard.ban("10.1.2.3", 0.0, "test") is None
    assert guard.bans(3.0) == []


def test_each_method_class_has_its_own_bucket() -> None:
    guard = SourceGuard(GuardPolicy(register=RateLimit(1, 2), ban_after=100))
    assert [guard.admit(CALLER, "REGISTER", 0.0) for _ in range(3)] == ["accept", "accept", "drop"]
    assert guard.admit(CALLER, "INVITE", 0.0) == "accept"
    assert guard.admit(CALLER, "OPTIONS", 0.0) == "accept"
    assert guard.admit(CALLER, "REGISTER", 1.0) == "accept"  # refilled at 1/s


def test_a_ban_asked_for_on_another_clock_is_applied_at_the_next_reading() -> None:
    guard = SourceGuard()
    guard.request_ban(FLOODER, "10 failed authentications")
    assert guard.get_timer() == 0.0
    guard.handle_timer(50.0)
    (ban,) = guard.bans(50.0)
    assert (ban.since, ban.reason) == (50.0, "10 failed authentications")
    assert guard.unban(FLOODER, 60.0) is True
    assert [type(n) for n in _notices(guard)] == [Banned, Unbanned]
    assert guard.unban(FLOODER, 60.0) is False


def test_memory_stays_bounded_under_a_spoofed_source_flood() -> None:
    guard = SourceGuard(GuardPolicy(max_sources=1000))
    for i in range(20_000):
        guard.admit(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", "OPTIONS", i / 10_000)
    assert guard.tracked_sources() <= 1000
    guard.handle_timer(1000.0)
    assert guard.tracked_sources() == 0


def test_disabled_guard_lets_everything_through() -> None:
    guard = SourceGuard(GuardPolicy(enabled=False))
    assert all(guard.admit(FLOODER, "INVITE", i / 1000) == "accept" for i in range(1000))


# ------------------------------------------------------------------ early dialogs in the UA


def _invite(i: int) -> bytes:
    return request_bytes("INVITE", branch=f"z9hG4bKe{i}", call_id=f"early-{i}@x", from_tag=f"f{i}")


def test_unanswered_invites_over_the_cap_get_503_and_answered_ones_free_their_place() -> None:
    guard = SourceGuard(GuardPolicy(max_early_dialogs=3, ban_after=100))
    ua = make_ua(guard=guard)
    source = ("10.0.0.2", 5062)
    ids = []
    for i in range(5):
        ua.receive_bytes(_invite(i), source, "UDP", 0.0)
        while (ev := ua.next_event()) is not None:
            ids.append(ev.request_id)  # type: ignore[attr-defined]
    sent = ua.messages_to_send()
    refused = [m for m, _, _ in sent if is_status(503)(m)]
    assert len(ids) == 3 and len(refused) == 2
    assert refused[0].headers.get("Retry-After") == "10"
    assert guard.early_dialogs("10.0.0.2") == 3
    ua.respond(ids[0], 486, now=0.1)  # a final failure frees one place
    ua.respond(ids[1], 200, now=0.1, body=b"")  # a 2xx holds it until the ACK
    assert guard.early_dialogs("10.0.0.2") == 2
    ua.handle_timer(40.0)  # no ACK: the 2xx retransmissions give up (64*T1)
    assert guard.early_dialogs("10.0.0.2") == 1


# ------------------------------------------------------------------ TCP gate


def test_tcp_gate_caps_connections_in_total_and_per_source() -> None:
    gate = TcpGate(TcpPolicy(max_connections=4, max_per_source=2))
    assert gate.accept(1, "a", 0.0) is None
    assert gate.accept(2, "a", 0.0) is None
    assert gate.accept(3, "a", 0.0) == "2 connections from this address"
    assert gate.accept(4, "b", 0.0) is None
    assert gate.accept(5, "c", 0.0) is None
    assert gate.accept(6, "d", 0.0) == "4 connections open"
    gate.closed(1)
    assert gate.accept(7, "a", 0.0) is None
    assert gate.refused == 2


def test_idle_slow_and_short_body_connections_expire_by_their_timeouts() -> None:
    gate = TcpGate(TcpPolicy(idle_timeout=30, read_timeout=5))
    gate.accept(1, "idle", 0.0)
    gate.accept(2, "slowloris", 0.0)
    gate.accept(3, "busy", 0.0)
    # slowloris: a byte a second of one message, never finished: the read timeout counts
    # from the message's first byte, not from the last one.
    for t in range(1, 5):
        gate.activity(2, float(t), partial=True)
        gate.activity(3, float(t), partial=False)
    assert gate.expired(4.9) == []
    assert gate.expired(6.0) == [(2, "message not complete after 5s")]
    assert gate.get_timer() == 30.0
    assert gate.expired(30.0) == [(1, "idle for 30s")]
    assert gate.count() == 1


def test_line_budget_holds_back_lines_and_reports_them_once() -> None:
    budget = LineBudget(lines=3, interval=60)
    assert [budget.allow(float(i)) for i in range(10)] == [True] * 3 + [False] * 7
    assert budget.summary(30.0) == 0
    assert budget.deadline() == 60.0
    assert budget.summary(60.0) == 7
    assert budget.summary(200.0) == 0
