"""Per-source limits and temporary bans for the SIP front door (in the spirit of Kamailio's
pike and fail2ban), plus the TCP connection gate and a log-line budget.

Sans-IO and clock-free: every decision takes ``now`` (the transport's monotonic clock),
state lives in bounded in-memory tables, and what an operator must hear about comes out
of :meth:`SourceGuard.next_notice` (one notice per ban and per unban, never one per
packet). ``sip/transport.py`` logs the notices; ``UserAgent`` asks :meth:`admit` for every
message before parsing it and :meth:`invite_started` for every new INVITE.

Model:

- each source address has one token bucket per method class (INVITE, REGISTER, OPTIONS,
  other); a request finding its bucket empty is dropped and counts one *strike*;
- ``ban_after`` strikes within ``strike_window`` seconds ban the address for
  ``ban_seconds``, doubled for each ban the address earned before (up to
  ``ban_max_seconds``); the doubling is forgotten after a clean ``ban_max_seconds``;
- while banned, everything from the address is dropped silently (no 503: an answer
  would tell a scanner it found a SIP server, and costs us a send per packet);
- concurrent early dialogs (initial INVITEs not yet answered with a final response,
  or answered 2xx and not yet ACKed) are capped per address; over the cap the INVITE
  gets ``503`` with Retry-After and counts a strike;
- trusted addresses (trunk hosts, configured networks) are never limited nor banned;
- bans asked for from outside (the registrar's authentication lockout, the API) are
  applied with the guard's own clock at its next call (:meth:`request_ban`).
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict, deque
from dataclasses import dataclass

__all__ = [
    "Ban",
    "Banned",
    "GuardPolicy",
    "LineBudget",
    "Notice",
    "RateLimit",
    "SourceGuard",
    "TcpGate",
    "TcpPolicy",
    "Unbanned",
    "Verdict",
    "method_class",
]

# Seconds between sweeps that forget sources with nothing to remember.
_SWEEP_INTERVAL = 60.0

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests per second sustained, ``burst`` at once."""

    rate: float
    burst: float


@dataclass(frozen=True)
class GuardPolicy:
    """The limits a :class:`SourceGuard` enforces (config ``[security]``)."""

    enabled: bool = True
    invite: RateLimit = RateLimit(10, 30)
    register: RateLimit = RateLimit(10, 30)
    options: RateLimit = RateLimit(10, 30)
    other: RateLimit = RateLimit(50, 100)
    max_early_dialogs: int = 20
    ban_after: int = 30
    strike_window: float = 60.0
    ban_seconds: float = 300.0
    ban_max_seconds: float = 3600.0
    trusted: tuple[str, ...] = ()
    # Sources tracked at once; the least recently seen are forgotten first.
    max_sources: int = 100_000

    def limit(self, klass: str) -> RateLimit:
        return {
            "INVITE": self.invite,
            "REGISTER": self.register,
            "OPTIONS": self.options,
        }.get(klass, self.other)


def method_class(method: str) -> str:
    """The rate-limit class of a request method: INVITE, REGISTER, OPTIONS or other."""
    return method if method in ("INVITE", "REGISTER", "OPTIONS") else "other"


Verdict = str  # "accept" | "drop"


@dataclass(frozen=True)
class Ban:
    """One banned address, as the API shows it (times on the guard's clock)."""

    address: str
    reason: str
    since: float
    until: float
    count: int  # how many times this address was banned (back-off step)


@dataclass(frozen=True)
class Banned:
    address: str
    reason: str
    seconds: float
    count: int


@dataclass(frozen=True)
class Unbanned:
    address: str
    reason: str  # "expired" or "removed"
    dropped: int  # packets dropped while banned


Notice = Banned | Unbanned


class _Source:
    __slots__ = ("buckets", "strikes", "early", "ban", "bans", "last_ban_end", "dropped", "seen")

    def __init__(self, now: float) -> None:
        self.buckets: dict[str, list[float]] = {}  # class -> [tokens, last refill]
        self.strikes: deque[float] = deque()
        self.early = 0
        self.ban: Ban | None = None
        self.bans = 0
        self.last_ban_end = 0.0
        self.dropped = 0
        self.seen = now


class SourceGuard:
    """Rate limits, early-dialog caps and bans per source address. See the module docstring."""

    def __init__(self, policy: GuardPolicy | None = None) -> None:
        self.policy = policy or GuardPolicy()
        self._nets: list[Network] = []
        self._trusted_hosts: set[str] = set()
        for entry in self.policy.trusted:
            self.trust(entry)
        self._sources: OrderedDict[str, _Source] = OrderedDict()
        self._bans: dict[str, Ban] = {}
        self._notices: deque[Notice] = deque()
        self._pending: list[tuple[str, str]] = []
        self._next_sweep: float | None = None
        # Counters for the stats endpoint and the bench.
        self.dropped = 0
        self.rejected = 0

    # ------------------------------------------------------------ trust

    def trust(self, entry: str) -> None:
        """Exempt an address or network (CIDR) from every limit."""
        try:
            net = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            self._trusted_hosts.add(entry.strip().lower())  # a host name: matched literally
            return
        self._nets.append(net)

    def is_trusted(self, address: str) -> bool:
        if address in self._trusted_hosts:
            return True
        if not self._nets:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in net for net in self._nets)

    # ------------------------------------------------------------ the per-message decision

    def admit(self, address: str, method: str | None, now: float) -> Verdict:
        """May this message (a request of ``method``, or a response: None) be processed?"""
        self._apply_pending(now)
        if not self.policy.enabled:
            return "accept"
        ban = self._bans.get(address)
        if ban is not None:
            if now < ban.until:
                src = self._sources.get(address)
                if src is not None:
                    src.dropped += 1
                self.dropped += 1
                return "drop"
            self._unban(address, now, "expired")
        if method is None or self.is_trusted(address):
            return "accept"
        src = self._source(address, now)
        limit = self.policy.limit(method_class(method))
        bucket = src.buckets.get(method_class(method))
        if bucket is None:
            bucket = src.buckets[method_class(method)] = [limit.burst, now]
        tokens = min(limit.burst, bucket[0] + (now - bucket[1]) * limit.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return "accept"
        bucket[0] = tokens
        self.dropped += 1
        self._strike(address, src, now, f"{method_class(method)} rate over {limit.rate:g}/s")
        return "drop"

    def invite_started(self, address: str, now: float) -> bool:
        """A new initial INVITE from ``address``: False when it is over the early-dialog cap
        (answer it 503); True means :meth:`invite_ended` must follow."""
        if not self.policy.enabled or self.is_trusted(address):
            return True
        src = self._source(address, now)
        if src.early >= self.policy.max_early_dialogs:
            self.rejected += 1
            self._strike(address, src, now, f"over {self.policy.max_early_dialogs} early dialogs")
            return False
        src.early += 1
        return True

    def invite_ended(self, address: str) -> None:
        """An INVITE counted by :meth:`invite_started` got its final answer (or its ACK)."""
        src = self._sources.get(address)
        if src is not None and src.early > 0:
            src.early -= 1

    def early_dialogs(self, address: str) -> int:
        src = self._sources.get(address)
        return src.early if src is not None else 0

    # ------------------------------------------------------------ bans

    def ban(
        self, address: str, now: float, reason: str, seconds: float | None = None
    ) -> Ban | None:
        """Ban ``address`` (back-off doubles the time of a repeat offender); None if trusted."""
        if self.is_trusted(address):
            return None
        src = self._source(address, now)
        if now - src.last_ban_end > self.policy.ban_max_seconds and src.ban is None:
            src.bans = 0  # a clean period forgets the back-off
        if seconds is None:
            seconds = min(self.policy.ban_seconds * 2**src.bans, self.policy.ban_max_seconds)
        src.bans += 1
        ban = Ban(address, reason, now, now + seconds, src.bans)
        src.ban = ban
        src.dropped = 0
        src.strikes.clear()
        self._bans[address] = ban
        self._notices.append(Banned(address, reason, seconds, src.bans))
        return ban

    def request_ban(self, address: str, reason: str) -> None:
        """Ban at the guard's next clock reading (for callers on another clock)."""
        self._pending.append((address, reason))

    def unban(self, address: str, now: float) -> bool:
        """Lift a ban (the API's DELETE); False when the address was not banned."""
        self._apply_pending(now)
        if address not in self._bans:
            return False
        self._unban(address, now, "removed")
        return True

    def bans(self, now: float) -> list[Ban]:
        """Bans in force, earliest end first."""
        self._apply_pending(now)
        return sorted((b for b in self._bans.values() if b.until > now), key=lambda b: b.until)

    def is_banned(self, address: str, now: float) -> bool:
        ban = self._bans.get(address)
        return ban is not None and ban.until > now

    # ------------------------------------------------------------ time and notices

    def get_timer(self) -> float | None:
        """The next ban to lift (so its unban line is logged on time)."""
        if self._pending:
            return 0.0
        deadlines = [b.until for b in self._bans.values()]
        if self._sources and self._next_sweep is not None:
            deadlines.append(self._next_sweep)
        return min(deadlines, default=None)

    def handle_timer(self, now: float) -> None:
        self._apply_pending(now)
        for address in [a for a, b in self._bans.items() if b.until <= now]:
            self._unban(address, now, "expired")
        if self._next_sweep is not None and now >= self._next_sweep:
            self._forget_idle(now)
            self._next_sweep = now + _SWEEP_INTERVAL if self._sources else None

    def next_notice(self) -> Notice | None:
        return self._notices.popleft() if self._notices else None

    # ------------------------------------------------------------ internals

    def _source(self, address: str, now: float) -> _Source:
        src = self._sources.get(address)
        if src is None:
            src = self._sources[address] = _Source(now)
            if self._next_sweep is None:
                self._next_sweep = now + _SWEEP_INTERVAL
            if len(self._sources) > self.policy.max_sources:
                self._evict(len(self._sources) - self.policy.max_sources, now)
        else:
            self._sources.move_to_end(address)
        src.seen = now
        return src

    def _strike(self, address: str, src: _Source, now: float, why: str) -> None:
        strikes = src.strikes
        strikes.append(now)
        horizon = now - self.policy.strike_window
        while strikes and strikes[0] < horizon:
            strikes.popleft()
        if len(strikes) >= self.policy.ban_after and src.ban is None:
            self.ban(address, now, why)

    def _unban(self, address: str, now: float, reason: str) -> None:
        self._bans.pop(address, None)
        src = self._sources.get(address)
        dropped = 0
        if src is not None:
            dropped = src.dropped
            src.ban = None
            src.dropped = 0
            src.last_ban_end = now
            src.buckets.clear()  # a fresh start: full buckets
        self._notices.append(Unbanned(address, reason, dropped))

    def _apply_pending(self, now: float) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        for address, reason in pending:
            if not self.is_banned(address, now):
                self.ban(address, now, reason)

    def _pinned(self, src: _Source, now: float) -> bool:
        """A source whose memory matters: banned, holding early dialogs, or on back-off."""
        return (
            src.ban is not None
            or src.early > 0
            or (src.bans > 0 and now - src.last_ban_end < self.policy.ban_max_seconds)
        )

    def _evict(self, excess: int, now: float) -> None:
        """Forget the ``excess`` least recently seen sources that hold nothing."""
        for address in list(self._sources):
            if excess <= 0:
                break
            if not self._pinned(self._sources[address], now):
                del self._sources[address]
                excess -= 1

    def _forget_idle(self, now: float) -> None:
        """Drop sources idle for a strike window with nothing to remember."""
        horizon = now - max(self.policy.strike_window, 60.0)
        for address in list(self._sources):
            src = self._sources[address]
            if src.seen >= horizon:
                break  # least recently seen first: the rest are younger
            if not self._pinned(src, now):
                del self._sources[address]

    def tracked_sources(self) -> int:
        return len(self._sources)


# ---------------------------------------------------------------------------- TCP


@dataclass(frozen=True)
class TcpPolicy:
    """SIP over TCP limits (config ``[security.tcp]``)."""

    max_connections: int = 512
    max_per_source: int = 32
    idle_timeout: float = 300.0
    read_timeout: float = 10.0


class _Conn:
    __slots__ = ("address", "last", "started")

    def __init__(self, address: str, now: float) -> None:
        self.address = address
        self.last = now
        self.started: float | None = None  # when the message being read began


class TcpGate:
    """Which TCP connections may open and which must close (idle, slow or stuck reads).

    ``accept`` before taking a connection, ``activity`` on every read (``partial``: bytes
    of an unfinished message are buffered), ``closed`` when it goes; :meth:`expired`
    names the connections whose timeout passed, :meth:`get_timer` when to ask again.
    """

    def __init__(self, policy: TcpPolicy | None = None, trusted: SourceGuard | None = None) -> None:
        self.policy = policy or TcpPolicy()
        self._trust = trusted
        self._conns: dict[int, _Conn] = {}
        self._per_source: dict[str, int] = {}
        self.refused = 0

    def accept(self, conn_id: int, address: str, now: float) -> str | None:
        """Register a new connection; the reason to refuse it, or None to take it."""
        if len(self._conns) >= self.policy.max_connections:
            self.refused += 1
            return f"{self.policy.max_connections} connections open"
        exempt = self._trust is not None and self._trust.is_trusted(address)
        if not exempt and self._per_source.get(address, 0) >= self.policy.max_per_source:
            self.refused += 1
            return f"{self.policy.max_per_source} connections from this address"
        self._conns[conn_id] = _Conn(address, now)
        self._per_source[address] = self._per_source.get(address, 0) + 1
        return None

    def activity(self, conn_id: int, now: float, *, partial: bool) -> None:
        conn = self._conns.get(conn_id)
        if conn is None:
            return
        conn.last = now
        if not partial:
            conn.started = None
        elif conn.started is None:
            conn.started = now

    def closed(self, conn_id: int) -> None:
        conn = self._conns.pop(conn_id, None)
        if conn is None:
            return
        left = self._per_source.get(conn.address, 1) - 1
        if left <= 0:
            self._per_source.pop(conn.address, None)
        else:
            self._per_source[conn.address] = left

    def expired(self, now: float) -> list[tuple[int, str]]:
        """(connection, reason) of every connection to close now; forgets them."""
        out: list[tuple[int, str]] = []
        for conn_id, conn in self._conns.items():
            if conn.started is not None and now - conn.started >= self.policy.read_timeout:
                out.append((conn_id, f"message not complete after {self.policy.read_timeout:g}s"))
            elif now - conn.last >= self.policy.idle_timeout:
                out.append((conn_id, f"idle for {self.policy.idle_timeout:g}s"))
        for conn_id, _ in out:
            self.closed(conn_id)
        return out

    def get_timer(self) -> float | None:
        deadlines = [
            conn.started + self.policy.read_timeout
            if conn.started is not None
            else conn.last + self.policy.idle_timeout
            for conn in self._conns.values()
        ]
        return min(deadlines, default=None)

    def count(self, address: str | None = None) -> int:
        return len(self._conns) if address is None else self._per_source.get(address, 0)


# ---------------------------------------------------------------------------- quiet logs


class LineBudget:
    """At most ``lines`` log lines per ``interval`` seconds; the rest are counted for one
    summary line (``summary``) when the interval ends."""

    def __init__(self, lines: int = 20, interval: float = 60.0) -> None:
        self.lines = lines
        self.interval = interval
        self._start: float | None = None
        self._used = 0
        self._suppressed = 0

    def allow(self, now: float) -> bool:
        if self._start is None or now - self._start >= self.interval:
            self._start = now
            self._used = 0
        if self._used < self.lines:
            self._used += 1
            return True
        self._suppressed += 1
        return False

    def summary(self, now: float) -> int:
        """How many lines were held back, once the interval that held them back is over."""
        if self._suppressed and self._start is not None and now - self._start >= self.interval:
            count, self._suppressed = self._suppressed, 0
            self._start = now
            self._used = 0
            return count
        return 0

    def deadline(self) -> float | None:
        if self._suppressed and self._start is not None:
            return self._start + self.interval
        return None
