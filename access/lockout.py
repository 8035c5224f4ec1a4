"""Wrong passwords in a row lock an account for a while: the policy, without I/O or clock.

The store keeps a :class:`LoginRecord` per user; a login attempt asks :func:`check` first
(a locked account is refused before the password is even looked at, so the right password
does not open it early), then reports the verdict with :func:`after_failure` or
:func:`after_success` and stores what they return.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LockoutPolicy", "LoginRecord", "after_failure", "after_success", "check"]


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_seconds: float = 900.0


@dataclass(frozen=True)
class LoginRecord:
    """Consecutive wrong passwords, and until when the account is locked (epoch seconds)."""

    failures: int = 0
    locked_until: float | None = None

    def locked(self, now: float) -> bool:
        return self.locked_until is not None and now < self.locked_until


def check(record: LoginRecord, now: float) -> LoginRecord | None:
    """None while locked; else the record to count from (a lock that ran out starts afresh)."""
    if record.locked(now):
        return None
    if record.locked_until is not None:
        return LoginRecord()
    return record


def after_failure(policy: LockoutPolicy, record: LoginRecord, now: float) -> LoginRecord:
    """One more wrong password; the one that reaches ``max_failures`` locks the account."""
    failures = record.failures + 1
    if failures >= policy.max_failures:
        return LoginRecord(failures, now + policy.lock_seconds)
    return LoginRecord(failures, None)


def after_success(record: LoginRecord) -> LoginRecord:
    return LoginRecord()
