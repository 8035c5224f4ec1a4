"""Bindings leave and re-enter the registrar as plain records: a restart keeps phones."""

from __future__ import annotations

from sip.digest import DigestAuthenticator
from sip.registrar import Binding, Registrar


def registrar() -> Registrar:
    return Registrar(DigestAuthenticator("vaxel", b"k" * 32), lambda user: None, domain="x")


def binding(user: str, port: int, expires_at: float) -> Binding:
    return Binding(user, f"sip:{user}@127.0.0.1:{port}", expires_at, ("127.0.0.1", port),
                   "UDP", f"cid-{port}", 3, 0.5, "SIPp")  # fmt: skip


def test_exported_bindings_import_unchanged_and_expired_ones_are_dropped() -> None:
    before = registrar()
    before.restore(binding("1001", 5070, expires_at=1000.0))
    before.restore(binding("1002", 5071, expires_at=200.0))
    records = before.export_bindings(now=100.0)
    assert len(records) == 2 and records[0]["user"] == "1001"
    after = registrar()
    restored, problems = after.import_bindings(records, now=500.0)  # 1002 expired meanwhile
    assert problems == []
    assert [b.user for b in restored] == ["1001"]
    assert after.bindings("1001", 500.0) == before.bindings("1001", 500.0)
    assert after.bindings("1002", 500.0) == []


def test_an_unreadable_record_is_skipped_and_reported() -> None:
    restored, problems = registrar().import_bindings([{"user": "1001"}], now=0.0)
    assert restored == [] and "unreadable binding" in problems[0]


def test_export_of_one_user() -> None:
    reg = registrar()
    reg.restore(binding("1001", 5070, 1000.0))
    reg.restore(binding("1002", 5071, 1000.0))
    assert [r["user"] for r in reg.export_bindings(0.0, "1002")] == ["1002"]
