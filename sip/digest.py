"""HTTP Digest authentication for SIP (RFC 2617, RFC 7616 algorithms per RFC 8760).

Sans-IO and clock-free: the server side takes ``now`` and keeps no state per
challenge. A nonce is ``<ms timestamp>.<serial>.<HMAC(secret, stamp:realm)>``,
so any process holding the secret can check it, and its age tells "stale"
apart from "forged".

A nonce is good for one authentication attempt at a time (RFC 7616 section 3.3
nonce-count): each correct answer must carry a higher ``nc`` than the last one
seen for that nonce (a request without qop counts as nc=1, so its nonce is
single-use), and a failed attempt (wrong password, unknown user) *burns* the
nonce, so a challenge buys exactly one guess. The memory for this is a bounded
table of the nonces used; when it overflows the oldest-used are forgotten and
every nonce issued before the newest forgotten one counts as used (the client
gets a fresh challenge, never a second guess).

:class:`AuthLockout` counts failures per user and per source address and locks
either for a while (doubling on each repeat), during which even the right
password is refused.

Client side: :func:`parse_challenge` / :func:`choose_challenge` and
:func:`build_authorization` answer a trunk's 401/407.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ALGORITHMS",
    "AuthLockout",
    "AuthResult",
    "Challenge",
    "DigestAuthenticator",
    "DigestError",
    "HA1",
    "Lock",
    "build_authorization",
    "choose_challenge",
    "compute_ha1",
    "compute_response",
    "parse_auth_params",
    "parse_challenge",
]


class DigestError(ValueError):
    """A Digest header could not be parsed or used; the message names the problem."""


# Algorithm name (upper-case, without "-sess") -> hashlib constructor name.
_HASHES: dict[str, str] = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
# Supported algorithm tokens, strongest first (RFC 8760 section 2.4 ordering).
ALGORITHMS: tuple[str, ...] = (
    "SHA-512-256",
    "SHA-512-256-sess",
    "SHA-256",
    "SHA-256-sess",
    "MD5",
    "MD5-sess",
)


def _canonical_algorithm(name: str | None) -> str:
    """Return the canonical spelling of an algorithm token; absent means MD5 (RFC 2617)."""
    if name is None:
        return "MD5"
    for alg in ALGORITHMS:
        if alg.lower() == name.strip().lower():
            return alg
    raise DigestError(f"unsupported digest algorithm {name!r}")


def _hash_hex(algorithm: str, data: str | bytes) -> str:
    base = algorithm.removesuffix("-sess")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.new(_HASHES[base], raw).hexdigest()


def compute_ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password), what a user database may store instead of the password."""
    alg = _canonical_algorithm(algorithm)
    return _hash_hex(alg, f"{username}:{realm}:{password}")


def compute_response(
    *,
    algorithm: str,
    ha1: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The request-digest (RFC 7616 section 3.4.1) from a plain (non-session) HA1.

    ``qop=None`` is the RFC 2069 legacy form still sent by some old clients.
    """
    alg = _canonical_algorithm(algorithm)
    if alg.endswith("-sess"):
        if cnonce is None:
            raise DigestError(f"{alg} needs a cnonce")
        ha1 = _hash_hex(alg, f"{ha1}:{nonce}:{cnonce}")
    if qop == "auth-int":
        ha2 = _hash_hex(alg, f"{method}:{uri}:{_hash_hex(alg, body)}")
    else:
        ha2 = _hash_hex(alg, f"{method}:{uri}")
    if qop is None:
        return _hash_hex(alg, f"{ha1}:{nonce}:{ha2}")
    if nc is None or cnonce is None:
        raise DigestError(f"qop={qop} needs nc and cnonce")
    return _hash_hex(alg, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


# --- auth-param list parsing -------------------------------------------------------------------

_TOKEN_STOP = frozenset(' \t\r\n,="')


def parse_auth_params(text: str) -> tuple[str, dict[str, str]]:
    """Split ``Digest a=b, c="d, \\"e\\""`` into the scheme and lower-cased parameter names.

    Quoted strings may contain commas and backslash escapes. Raises
    :class:`DigestError` naming the problem on malformed input.
    """
    text = text.strip()
    n = len(text)
    i = 0
    while i < n and text[i] not in " \t":
        i += 1
    scheme = text[:i]
    if not scheme or any(c in _TOKEN_STOP for c in scheme):
        raise DigestError("missing authentication scheme")
    params: dict[str, str] = {}
    expect_param = True
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        if text[i] == ",":
            i += 1
            expect_param = True
            continue
        if not expect_param:
            raise DigestError(f"expected ',' at position {i}")
        start = i
        while i < n and text[i] not in _TOKEN_STOP:
            i += 1
        name = text[start:i].lower()
        if not name:
            raise DigestError(f"expected a parameter name at position {start}")
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] != "=":
            raise DigestError(f"parameter {name!r} has no value")
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise DigestError(f"unterminated quoted value of {name!r}")
                c = text[i]
                if c == "\\":
                    if i + 1 >= n:
                        raise DigestError(f"dangling escape in {name!r}")
                    chars.append(text[i + 1])
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    break
                chars.append(c)
                i += 1
            value = "".join(chars)
        else:
            start = i
            while i < n and text[i] not in _TOKEN_STOP:
                i += 1
            value = text[start:i]
            if not value:
                raise DigestError(f"parameter {name!r} has an empty value")
        if name in params:
            raise DigestError(f"parameter {name!r} given twice")
        params[name] = value
        expect_param = False
    return scheme, params


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- client side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """A parsed WWW-Authenticate / Proxy-Authenticate Digest challenge."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    params: Mapping[str, str] = field(default_factory=dict)


def parse_challenge(value: str) -> Challenge:
    """Parse one Digest challenge header value; raises :class:`DigestError`."""
    scheme, params = parse_auth_params(value)
    if scheme.lower() != "digest":
        raise DigestError(f"unsupported authentication scheme {scheme!r}")
    for required in ("realm", "nonce"):
        if required not in params:
            raise DigestError(f"challenge without {required}")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        algorithm=_canonical_algorithm(params.get("algorithm")),
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "").lower() == "true",
        params=params,
    )


def choose_challenge(values: Iterable[str]) -> Challenge:
    """Pick the strongest supported challenge among several (RFC 8760 section 2.4)."""
    usable: list[Challenge] = []
    problems: list[str] = []
    for value in values:
        try:
            usable.append(parse_challenge(value))
        except DigestError as exc:
            problems.append(str(exc))
    if not usable:
        raise DigestError("no usable digest challenge: " + ("; ".join(problems) or "none given"))
    return min(usable, key=lambda c: ALGORITHMS.index(c.algorithm))


def build_authorization(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str,
    nc: int = 1,
    body: bytes = b"",
) -> str:
    """The Authorization / Proxy-Authorization value answering ``challenge``.

    Prefers qop=auth, uses auth-int only when it is the sole offer, and falls
    back to the RFC 2069 form when the challenge offers no qop.
    """
    if "auth" in challenge.qop:
        qop: str | None = "auth"
    elif "auth-int" in challenge.qop:
        qop = "auth-int"
    elif challenge.qop:
        raise DigestError(f"no supported qop in {challenge.qop!r}")
    else:
        qop = None
    nc_text = f"{nc:08x}"
    ha1 = compute_ha1(username, challenge.realm, password, challenge.algorithm)
    response = compute_response(
        algorithm=challenge.algorithm,
        ha1=ha1,
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce,
        body=body,
    )
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(challenge.realm)}",
        f"nonce={_quote(challenge.nonce)}",
        f"uri={_quote(uri)}",
        f"response={_quote(response)}",
        f"algorithm={challenge.algorithm}",
    ]
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc_text}", f"cnonce={_quote(cnonce)}"]
    if challenge.opaque is not None:
        parts.append(f"opaque={_quote(challenge.opaque)}")
    return "Digest " + ", ".join(parts)


# --- server side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HA1:
    """Pre-hashed credentials, H(username:realm:password) per algorithm family.

    Return one from ``password_lookup`` instead of a plain password when the
    user store keeps no clear text. Keys are "MD5", "SHA-256", "SHA-512-256".
    """

    digests: Mapping[str, str]

    @classmethod
    def from_password(
        cls,
        username: str,
        realm: str,
        password: str,
        algorithms: Iterable[str] = ("MD5", "SHA-256", "SHA-512-256"),
    ) -> HA1:
        return cls({a: compute_ha1(username, realm, password, a) for a in algorithms})


PasswordLookup = Callable[[str], "str | HA1 | None"]


@dataclass(frozen=True)
class AuthResult:
    """Outcome of checking credentials.

    ``reason`` is "ok" on success, else a short phrase fit for a log line
    ("wrong password", "stale nonce", ...). ``stale`` means: challenge again
    with stale=true, the client may retry without asking its user.
    """

    ok: bool
    reason: str
    username: str | None = None
    stale: bool = False
    algorithm: str | None = None


@dataclass(frozen=True)
class _Credentials:
    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str
    qop: str | None
    nc: str | None
    cnonce: str | None


_BURNT = -1  # a nonce-count no answer can beat


class DigestAuthenticator:
    """Issues stateless Digest challenges for one realm and checks the answers."""

    # Clock skew tolerated between cooperating servers when a nonce is dated ahead.
    _FUTURE_SLACK = 5.0

    def __init__(
        self,
        realm: str,
        secret: bytes,
        nonce_lifetime: float = 300,
        algorithms: Iterable[str] = ("SHA-256", "MD5"),
        *,
        allow_legacy: bool = True,
        max_tracked_nonces: int = 4096,
    ) -> None:
        if not secret:
            raise ValueError("DigestAuthenticator needs a non-empty secret")
        self.realm = realm
        self.nonce_lifetime = nonce_lifetime
        algs = [_canonical_algorithm(a) for a in algorithms]
        if not algs:
            raise ValueError("DigestAuthenticator needs at least one algorithm")
        # Challenges go out in this order; RFC 8760 clients take the first they support.
        # Some older clients fail on any challenge before an MD5 one, so the order is
        # the caller's choice (MD5 first, or MD5 alone, for such peers).
        self.algorithms: tuple[str, ...] = tuple(dict.fromkeys(algs))
        self.allow_legacy = allow_legacy
        self._secret = secret
        self._max_tracked = max_tracked_nonces
        # nonce -> highest nonce-count used (_BURNT after a failure); oldest-used evicted
        # first, and every nonce issued up to the newest evicted one counts as used.
        self._seen_nc: OrderedDict[str, int] = OrderedDict()
        self._forgotten_upto = -1
        self._serial = itertools.count()

    # nonces

    def make_nonce(self, now: float) -> str:
        # The serial keeps nonces unique when many clients are challenged in the same
        # millisecond, so their nonce-counts do not collide in the replay table.
        stamp = f"{int(now * 1000):x}.{next(self._serial):x}"
        return f"{stamp}.{self._mac(stamp)}"

    def _mac(self, stamp: str) -> str:
        msg = f"{stamp}:{self.realm}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def _nonce_age(self, nonce: str, now: float) -> float | None:
        """Age in seconds of a nonce we issued, or None if we did not issue it."""
        stamp, sep, mac = nonce.rpartition(".")
        if not sep or not hmac.compare_digest(mac, self._mac(stamp)):
            return None
        try:
            issued = int(stamp.partition(".")[0], 16) / 1000
        except ValueError:
            return None
        age = now - issued
        if age < -self._FUTURE_SLACK:
            return None
        return max(age, 0.0)

    # challenges

    def challenge(
        self, now: float, *, stale: bool = False, proxy: bool = False
    ) -> list[tuple[str, str]]:
        """Header (name, value) pairs to put in a 401 (or 407 with ``proxy``)."""
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        nonce = self.make_nonce(now)
        out = []
        for alg in self.algorithms:
            value = (
                f"Digest realm={_quote(self.realm)}, nonce={_quote(nonce)}, "
                f'algorithm={alg}, qop="auth"'
            )
            if stale:
                value += ", stale=TRUE"
            out.append((name, value))
        return out

    # verification

    def verify(
        self,
        method: str,
        authorization_header_value: str,
        password_lookup: PasswordLookup,
        now: float,
    ) -> AuthResult:
        """Check an Authorization / Proxy-Authorization value. Never raises on bad input."""
        try:
            creds = self._parse_credentials(authorization_header_value)
        except DigestError as exc:
            return AuthResult(False, f"malformed header: {exc}")
        user = creds.username
        if creds.realm != self.realm:
            return AuthResult(False, "realm mismatch", user)
        if creds.algorithm not in self.algorithms:
            return AuthResult(False, f"algorithm {creds.algorithm} not offered", user)
        age = self._nonce_age(creds.nonce, now)
        if age is None:
            return AuthResult(False, "bad nonce", user)
        nc = int(creds.nc, 16) if creds.nc is not None else 1
        last = self._last_nc(creds.nonce)
        if last == _BURNT:
            # Already used by a failed attempt: no second guess, not even checked.
            return AuthResult(False, "used nonce", user, algorithm=creds.algorithm)
        try:
            stored = password_lookup(user)
        except Exception as exc:  # a failing user store must not crash the SIP stack
            return AuthResult(False, f"user lookup failed: {type(exc).__name__}", user)
        if stored is None:
            return AuthResult(False, "unknown user", user)
        base = creds.algorithm.removesuffix("-sess")
        if isinstance(stored, HA1):
            ha1 = stored.digests.get(base)
            if ha1 is None:
                return AuthResult(False, f"no stored {base} credentials", user)
        else:
            ha1 = compute_ha1(user, self.realm, stored, base)
        expected = compute_response(
            algorithm=creds.algorithm,
            ha1=ha1,
            nonce=creds.nonce,
            method=method,
            uri=creds.uri,
            qop=creds.qop,
            nc=creds.nc,
            cnonce=creds.cnonce,
        )
        if not hmac.compare_digest(expected, creds.response.lower()):
            self._record(creds.nonce, _BURNT)
            return AuthResult(False, "wrong password", user, algorithm=creds.algorithm)
        # Only a correct digest earns stale=true (RFC 2617 section 3.2.1).
        if age > self.nonce_lifetime:
            return AuthResult(False, "stale nonce", user, stale=True, algorithm=creds.algorithm)
        if last is not None and nc <= last:
            return AuthResult(
                False, "replayed nonce count", user, stale=True, algorithm=creds.algorithm
            )
        self._record(creds.nonce, nc)
        return AuthResult(True, "ok", user, algorithm=creds.algorithm)

    def burn(self, nonce: str) -> None:
        """Make ``nonce`` unusable (an attempt with it was refused for another reason)."""
        if self._serial_of(nonce) is not None:
            self._record(nonce, _BURNT)

    def _last_nc(self, nonce: str) -> int | None:
        """The highest nonce-count used with ``nonce`` (_BURNT: no more use), None if unused."""
        last = self._seen_nc.get(nonce)
        if last is not None:
            return last
        serial = self._serial_of(nonce)
        if serial is None or serial <= self._forgotten_upto:
            return _BURNT  # forgotten: may have been used, so it is not trusted again
        return None

    def _record(self, nonce: str, nc: int) -> None:
        self._seen_nc[nonce] = nc
        self._seen_nc.move_to_end(nonce)
        while len(self._seen_nc) > self._max_tracked:
            old, _ = self._seen_nc.popitem(last=False)
            serial = self._serial_of(old)
            if serial is not None:
                self._forgotten_upto = max(self._forgotten_upto, serial)

    @staticmethod
    def _serial_of(nonce: str) -> int | None:
        parts = nonce.split(".")
        if len(parts) != 3:
            return None
        try:
            return int(parts[1], 16)
        except ValueError:
            return None

    def _parse_credentials(self, value: str) -> _Credentials:
        scheme, p = parse_auth_params(value)
        if scheme.lower() != "digest":
            raise DigestError(f"scheme {scheme!r} is not Digest")
        for required in ("username", "realm", "nonce", "uri", "response"):
            if required not in p:
                raise DigestError(f"missing {required}")
        algorithm = _canonical_algorithm(p.get("algorithm"))
        qop = p.get("qop")
        nc = p.get("nc")
        cnonce = p.get("cnonce")
        if qop is None:
            if not self.allow_legacy:
                raise DigestError("missing qop")
            if algorithm.endswith("-sess"):
                raise DigestError(f"{algorithm} needs qop")
            nc = cnonce = None
        else:
            qop = qop.lower()
            if qop != "auth":
                raise DigestError(f"unsupported qop {qop!r}")
            if nc is None or cnonce is None:
                raise DigestError("qop=auth needs nc and cnonce")
            if len(nc) != 8 or any(c not in "0123456789abcdefABCDEF" for c in nc):
                raise DigestError(f"nc {nc!r} is not 8 hex digits")
        response = p["response"]
        if not response or any(c not in "0123456789abcdefABCDEF" for c in response):
            raise DigestError("response is not hex")
        return _Credentials(
            username=p["username"],
            realm=p["realm"],
            nonce=p["nonce"],
            uri=p["uri"],
            response=response,
            algorithm=algorithm,
            qop=qop,
            nc=nc,
            cnonce=cnonce,
        )


# --- failure counting and lockout --------------------------------------------------------------

LockKind = Literal["user", "source"]


@dataclass(frozen=True)
class Lock:
    """A user or a source address refused authentication until ``until`` (caller's clock)."""

    kind: LockKind
    key: str
    until: float
    seconds: float
    failures: int
    step: int  # 1 for a first lock, 2 for the next (twice as long), ...


class _Tally:
    __slots__ = ("failures", "lock", "step", "last_lock_end")

    def __init__(self) -> None:
        self.failures: deque[float] = deque()
        self.lock: Lock | None = None
        self.step = 0
        self.last_lock_end = 0.0


class AuthLockout:
    """Counts failed authentications per user and per source address; locks with back-off.

    ``user_failures`` failures of one user (or ``source_failures`` from one address)
    within ``window`` seconds lock it for ``lock_seconds`` (sources:
    ``source_lock_seconds``), doubled for each lock since the last success or the last
    quiet ``max_lock_seconds``, up to ``max_lock_seconds``. While locked, every attempt
    is refused without looking at the password. Sans-IO: ``now`` is the caller's clock;
    ``exempt(address)`` spares trusted sources the per-source count.
    """

    def __init__(
        self,
        *,
        user_failures: int = 5,
        source_failures: int = 10,
        window: float = 300.0,
        lock_seconds: float = 60.0,
        source_lock_seconds: float = 300.0,
        max_lock_seconds: float = 3600.0,
        exempt: Callable[[str], bool] | None = None,
        max_entries: int = 100_000,
    ) -> None:
        if user_failures < 1 or source_failures < 1:
            raise ValueError("AuthLockout: failure thresholds must be at least 1")
        self.user_failures = user_failures
        self.source_failures = source_failures
        self.window = window
        self.lock_seconds = lock_seconds
        self.source_lock_seconds = source_lock_seconds
        self.max_lock_seconds = max_lock_seconds
        self.exempt = exempt
        self._max = max_entries
        self._tallies: OrderedDict[tuple[LockKind, str], _Tally] = OrderedDict()

    def locked(self, user: str | None, source: str | None, now: float) -> Lock | None:
        """The lock in force on this user or source (the source's first), or None."""
        for key in self._keys(user, source):
            tally = self._tallies.get(key)
            if tally is None or tally.lock is None:
                continue
            if now < tally.lock.until:
                return tally.lock
            tally.lock = None
            tally.last_lock_end = now
        return None

    def failed(self, user: str | None, source: str | None, now: float) -> list[Lock]:
        """Count one failure; returns the locks it started (none, the user's, the source's)."""
        started: list[Lock] = []
        for key in self._keys(user, source):
            tally = self._tally(key)
            if tally.lock is not None and now < tally.lock.until:
                continue
            failures = tally.failures
            failures.append(now)
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            threshold = self.user_failures if key[0] == "user" else self.source_failures
            if len(failures) < threshold:
                continue
            if tally.step and now - tally.last_lock_end > self.max_lock_seconds:
                tally.step = 0  # quiet long enough: the back-off starts over
            base = self.lock_seconds if key[0] == "user" else self.source_lock_seconds
            seconds = min(base * 2**tally.step, self.max_lock_seconds)
            tally.step += 1
            tally.lock = Lock(key[0], key[1], now + seconds, seconds, len(failures), tally.step)
            failures.clear()
            started.append(tally.lock)
        return started

    def succeeded(self, user: str | None, source: str | None) -> None:
        """A correct answer: that user's and source's failures and back-off are forgotten."""
        for key in self._keys(user, source):
            self._tallies.pop(key, None)

    def unlock(self, kind: LockKind, key: str) -> bool:
        tally = self._tallies.pop((kind, key), None)
        return tally is not None and tally.lock is not None

    def locks(self, now: float) -> list[Lock]:
        return [t.lock for t in self._tallies.values() if t.lock is not None and t.lock.until > now]

    def _keys(self, user: str | None, source: str | None) -> list[tuple[LockKind, str]]:
        keys: list[tuple[LockKind, str]] = []
        if source and not (self.exempt is not None and self.exempt(source)):
            keys.append(("source", source))
        if user:
            keys.append(("user", user))
        return keys

    def _tally(self, key: tuple[LockKind, str]) -> _Tally:
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally()
            if len(self._tallies) > self._max:
                victim = next((k for k, t in self._tallies.items() if t.lock is None), None)
                if victim is not None and victim != key:
                    del self._tallies[victim]
        else:
            self._tallies.move_to_end(key)
        return tally
