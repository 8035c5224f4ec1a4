"""Digest hardening in virtual time: one guess per challenge, lockouts with back-off."""

from __future__ import annotations

from sip.digest import AuthLockout, Lock, build_authorization, choose_challenge
from sip.registrar import Registrar
from tests.sip.test_registrar import DESK, DOMAIN, SOURCE, T0, _registrar, _request

ATTACKER = ("203.0.113.9", 5060)
OFFICE = ("198.51.100.20", 5060)


def _challenge(reg: Registrar, source: tuple[str, int], now: float, user: str = "alice"):
    first = reg.handle_register(
        _request(user, [f"<{DESK}>"], call_id=f"c-{now}", cseq=1), source, "udp", now
    )
    assert first.status == 401
    return choose_challenge(v for n, v in first.headers if n == "WWW-Authenticate")


def _attempt(reg, source, now, password, *, user="alice", challenge=None, nc=1, cseq=2):
    challenge = challenge or _challenge(reg, source, now, user)
    authorization = build_authorization(
        challenge,
        method="REGISTER",
        uri=f"sip:{DOMAIN}",
        username=user,
        password=password,
        cnonce="cn",
        nc=nc,
    )
    req = _request(user, [f"<{DESK}>"], call_id=f"c-{now}", cseq=cseq, authorization=authorization)
    return reg.handle_register(req, source, "udp", now), challenge


def test_a_challenge_buys_one_guess_a_failed_attempt_burns_its_nonce() -> None:
    reg = _registrar()
    wrong, challenge = _attempt(reg, SOURCE, T0, "guess-1")
    assert wrong.status == 403 and wrong.auth_failure.reason == "wrong password"
    # The same nonce again, now with the right password and a higher nc: a fresh
    # challenge, not a verdict, so the nonce cannot be used as a guessing oracle.
    again, _ = _attempt(reg, SOURCE, T0 + 1, "wonderland", challenge=challenge, nc=2, cseq=3)
    assert again.status == 401 and again.auth_failure.reason == "used nonce"
    ok, _ = _attempt(reg, SOURCE, T0 + 2, "wonderland")
    assert ok.status == 200


def test_a_reused_nonce_count_is_rejected_and_a_higher_one_accepted() -> None:
    reg = _registrar()
    ok, challenge = _attempt(reg, SOURCE, T0, "wonderland")
    assert ok.status == 200
    replay, _ = _attempt(reg, SOURCE, T0 + 1, "wonderland", challenge=challenge, nc=1, cseq=3)
    assert replay.status == 401 and replay.auth_failure.reason == "replayed nonce count"
    refresh, _ = _attempt(reg, SOURCE, T0 + 2, "wonderland", challenge=challenge, nc=2, cseq=4)
    assert refresh.status == 200


def test_forgotten_nonces_count_as_used_never_as_fresh() -> None:
    reg = _registrar()
    reg.authenticator._max_tracked = 4
    _, old = _attempt(reg, SOURCE, T0, "wrong")
    for i in range(8):  # push the burnt nonce out of the table
        _attempt(reg, SOURCE, T0 + 1 + i, "wrong")
    retry, _ = _attempt(reg, SOURCE, T0 + 20, "wonderland", challenge=old, nc=2, cseq=9)
    assert retry.status == 401


def _locked_registrar(**kw: object) -> tuple[Registrar, list[Lock]]:
    locks: list[Lock] = []
    lockout = AuthLockout(
        user_failures=5,
        source_failures=10,
        window=300,
        lock_seconds=60,
        source_lock_seconds=120,
        max_lock_seconds=600,
        **kw,  # type: ignore[arg-type]
    )
    return _registrar(lockout=lockout, on_lock=locks.append), locks


def test_500_wrong_passwords_lock_the_source_and_the_user_until_the_lock_expires() -> None:
    reg, locks = _locked_registrar()
    statuses = [_attempt(reg, ATTACKER, T0 + i / 10, f"guess-{i}")[0] for i in range(500)]
    assert all(o.status == 403 for o in statuses)
    checked = [o for o in statuses if o.auth_failure.reason == "wrong password"]
    assert len(checked) == 5  # the user locks after 5: the other 495 never reach a check
    assert {(lock.kind, lock.key) for lock in locks} == {
        ("user", "alice"),
        ("source", ATTACKER[0]),
    }
    # The right password, from an innocent address, is refused while the user is locked...
    refused, _ = _attempt(reg, OFFICE, T0 + 51, "wonderland")
    assert refused.status == 403 and refused.auth_failure.reason == "locked"
    # ...and from the locked source for another user too.
    other, _ = _attempt(reg, ATTACKER, T0 + 51, "builder", user="bob")
    assert other.status == 403 and other.auth_failure.reason == "locked"
    # Bob from the office is not affected.
    assert _attempt(reg, OFFICE, T0 + 51, "builder", user="bob")[0].status == 200
    # After the lock (60 s from the fifth failure) the right password works again.
    assert _attempt(reg, OFFICE, T0 + 61, "wonderland")[0].status == 200


def test_each_new_lock_of_a_user_lasts_twice_as_long_up_to_the_maximum() -> None:
    reg, locks = _locked_registrar()
    now = T0
    for _ in range(5):
        for _ in range(5):
            _attempt(reg, (f"192.0.2.{len(locks)}", 5060), now, "bad")
        now = locks[-1].until
    assert [lock.seconds for lock in locks if lock.kind == "user"] == [60, 120, 240, 480, 600]
    # A success forgets the back-off.
    _attempt(reg, OFFICE, now, "wonderland")
    for _ in range(5):
        _attempt(reg, OFFICE, now + 1, "bad")
    assert locks[-1].seconds == 60


def test_trusted_sources_are_not_locked_as_a_whole() -> None:
    reg, locks = _locked_registrar(exempt=lambda address: address == OFFICE[0])
    for i in range(30):
        _attempt(reg, OFFICE, T0 + i, "bad", user="bob")
    assert {lock.kind for lock in locks} == {"user"}
    assert _attempt(reg, OFFICE, T0 + 31, "wonderland")[0].status == 200  # alice still fine
