"""Registrar core (RFC 3261 section 10.3) with an in-memory location service.

Sans-IO and clock-free: :meth:`Registrar.handle_register` takes a parsed
REGISTER, where it came from and ``now``, and returns the response to send
plus the binding changes it made, so the caller can persist and log them.

Authentication decisions (shared with :meth:`Registrar.authenticate_request`,
used for INVITEs from agents):

- no credentials for our realm, a nonce we did not issue (e.g. a restart with
  a new secret), or an algorithm we did not offer -> 401/407 with a fresh
  challenge;
- a correct digest on an expired or replayed nonce -> 401/407 with stale=true;
- unknown user or wrong password -> 403 (same answer for both, so user names
  cannot be probed), with the real reason in ``auth_failure`` for the log;
- a nonce already used by a failed attempt -> 401/407 with a fresh challenge
  (one guess per challenge, see ``sip.digest``);
- a locked user or source (``AuthLockout``: too many failures) -> 403 as for a
  wrong password, without looking at the password; reason "locked" in
  ``auth_failure``. New locks are handed to ``on_lock`` (log, ban the source).
- a malformed Authorization header for our realm -> 400 naming the problem
  (a fresh challenge would not help a client that cannot format credentials,
  and would loop); also recorded in ``auth_failure``.

A request whose CSeq is not higher than a binding's stored one for the same
Call-ID (10.3 step 7) is refused with 500 "Out-of-order REGISTER".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal

from sip.digest import HA1, AuthLockout, AuthResult, DigestAuthenticator, Lock, parse_auth_params
from sip.headers import HeaderError
from sip.message import SipRequest, SipResponse
from sip.transaction import build_response
from sip.uri import SipUri, parse_uri

__all__ = [
    "AuthRejection",
    "Binding",
    "BindingChange",
    "RegisterOutcome",
    "Registrar",
]

BindingChangeKind = Literal["added", "refreshed", "removed"]
PasswordLookup = Callable[[str], "str | HA1 | None"]
_MAX_EXPIRES_VALUE = 2**32 - 1


@dataclass(frozen=True)
class Binding:
    """One registered contact of a user (address-of-record user part)."""

    user: str
    contact: str
    expires_at: float
    source: tuple[str, int]
    transport: str
    call_id: str
    cseq: int
    q: float = 1.0
    user_agent: str | None = None

    def remaining(self, now: float) -> int:
        return max(0, math.ceil(self.expires_at - now))

    def to_record(self) -> dict[str, object]:
        """Plain JSON-able fields, for a store to keep across restarts."""
        return {
            "user": self.user,
            "contact": self.contact,
            "expires_at": self.expires_at,
            "source": [self.source[0], self.source[1]],
            "transport": self.transport,
            "call_id": self.call_id,
            "cseq": self.cseq,
            "q": self.q,
            "user_agent": self.user_agent,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Binding:
        """The inverse of :meth:`to_record` (ValueError/KeyError/TypeError if malformed)."""
        host, port = record["source"]
        return cls(
            user=str(record["user"]),
            contact=str(record["contact"]),
            expires_at=float(record["expires_at"]),
            source=(str(host), int(port)),
            transport=str(record["transport"]),
            call_id=str(record["call_id"]),
            cseq=int(record["cseq"]),
            q=float(record.get("q", 1.0)),
            user_agent=record.get("user_agent"),
        )


@dataclass(frozen=True)
class BindingChange:
    """What a REGISTER (or expiry, which counts as "removed") did to one binding."""

    kind: BindingChangeKind
    binding: Binding


@dataclass(frozen=True)
class AuthRejection:
    """Why a request was not authenticated and the response that says so."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    # The verifier's verdict when credentials were presented and failed; None if none given.
    failure: AuthResult | None = None


@dataclass(frozen=True)
class RegisterOutcome:
    """The registrar's decision for one REGISTER.

    ``headers`` are the registrar-specific headers to add to a response built
    from the request (Via, From, To, Call-ID, CSeq): challenges, Contact list,
    Date, Min-Expires. ``auth_failure`` is set when credentials were presented
    and rejected, so the caller can log it (and throttle the source).
    """

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    changes: list[BindingChange] = field(default_factory=list)
    user: str | None = None
    auth_failure: AuthResult | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def to_response(self, request: SipRequest, *, to_tag: str | None = None) -> SipResponse:
        response = build_response(request, self.status, self.reason, to_tag=to_tag)
        for name, value in self.headers:
            response.headers.add(name, value)
        return response


class _Refusal(Exception):
    """Internal: abort a REGISTER with this status, reason and extra headers."""

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or []


def _contact_key(uri: str) -> str:
    """Comparison key for Contact URIs (RFC 3261 19.1.4, simplified).

    Scheme and host are case-insensitive, user is not; parameter order does
    not matter. Non-SIP URIs compare as written.
    """
    try:
        u: SipUri = parse_uri(uri)
    except HeaderError:
        return uri
    params = ";".join(
        f"{k.lower()}={(v or '').lower()}"
        for k, v in sorted(u.params.items())
        if k.lower() in ("transport", "user", "ttl", "method", "maddr")
    )
    return f"{u.scheme}:{u.user or ''}@{u.host.lower()}:{u.port or ''};{params}"


def _parse_expires(value: str, what: str) -> int:
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise _Refusal(400, f"Bad {what}: {value.strip()[:30]!r} is not a number of seconds")
    return min(int(text), _MAX_EXPIRES_VALUE)


def _parse_q(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        q = float(value)
    except ValueError:
        raise _Refusal(400, f"Bad Contact: q={value[:10]!r}") from None
    if not 0.0 <= q <= 1.0:
        raise _Refusal(400, f"Bad Contact: q={value[:10]!r} outside 0-1")
    return q


class Registrar:
    """Accepts REGISTERs for users of one domain and keeps their bindings in memory."""

    def __init__(
        self,
        authenticator: DigestAuthenticator,
        password_lookup: PasswordLookup,
        *,
        domain: str,
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        aliases: Iterable[str] | None = (),
        max_bindings_per_user: int = 10,
        lockout: AuthLockout | None = None,
        on_lock: Callable[[Lock], None] | None = None,
    ) -> None:
        """``aliases``: other host names/addresses accepted in the To URI besides
        ``domain``; None accepts any host (users are identified by user part only).
        """
        if not 0 < min_expires <= default_expires <= max_expires:
            raise ValueError(
                "registrar expiry settings must satisfy 0 < min_expires <= default_expires"
                f" <= max_expires, got {min_expires}, {default_expires}, {max_expires}"
            )
        self.authenticator = authenticator
        self.password_lookup = password_lookup
        self.domain = domain
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.max_bindings_per_user = max_bindings_per_user
        self.lockout = lockout
        self.on_lock = on_lock
        self._hosts: frozenset[str] | None = (
            None if aliases is None else frozenset(h.lower() for h in (domain, *aliases))
        )
        # user -> contact key -> binding
        self._bindings: dict[str, dict[str, Binding]] = {}

    # --- authentication -------------------------------------------------------------------

    def authenticate_request(
        self,
        request: SipRequest,
        now: float,
        *,
        proxy: bool = False,
        source: tuple[str, int] | None = None,
    ) -> AuthResult | AuthRejection:
        """Check a request's Digest credentials; an ``AuthResult`` with ok=True on success.

        ``source``: where the request came from, for the per-source failure count.
        ``proxy=True`` reads Proxy-Authorization and answers 407 with
        Proxy-Authenticate (what a UA expects for an INVITE to a server that
        is not its registrar); otherwise Authorization / 401 / WWW-Authenticate.
        """
        header = "Proxy-Authorization" if proxy else "Authorization"
        challenge_status = 407 if proxy else 401
        challenge_reason = "Proxy Authentication Required" if proxy else "Unauthorized"

        def challenge(stale: bool = False, failure: AuthResult | None = None) -> AuthRejection:
            headers = self.authenticator.challenge(now, stale=stale, proxy=proxy)
            return AuthRejection(challenge_status, challenge_reason, headers, failure)

        value = self._credentials_for_realm(request.headers.get_all(header))
        if value is None:
            return challenge()
        address = source[0] if source is not None else None
        if self.lockout is not None:
            claimed, nonce = _claimed_user(value)
            lock = self.lockout.locked(claimed, address, now)
            if lock is not None:
                if nonce is not None:
                    self.authenticator.burn(nonce)
                # Hammering a locked user still counts against the source.
                for new in self.lockout.failed(None, address, now):
                    if self.on_lock is not None:
                        self.on_lock(new)
                failure = AuthResult(False, "locked", claimed)
                return AuthRejection(403, "Forbidden", [], failure)
        result = self.authenticator.verify(request.method, value, self.password_lookup, now)
        if self.lockout is not None:
            if result.ok:
                self.lockout.succeeded(result.username, address)
            elif result.reason in ("wrong password", "unknown user"):
                # An unknown name counts against the source only (no table of made-up users).
                user = result.username if result.reason == "wrong password" else None
                for lock in self.lockout.failed(user, address, now):
                    if self.on_lock is not None:
                        self.on_lock(lock)
        if result.ok:
            return result
        if result.stale:
            return challenge(stale=True, failure=result)
        if result.reason.startswith("malformed header"):
            detail = result.reason.partition(": ")[2]
            return AuthRejection(400, f"Bad {header} header: {detail}"[:120], [], result)
        if result.reason in ("unknown user", "wrong password"):
            return AuthRejection(403, "Forbidden", [], result)
        if result.reason.startswith("user lookup failed"):
            return AuthRejection(500, "User store unavailable", [("Retry-After", "5")], result)
        # bad nonce, realm mismatch, algorithm not offered...: a fresh challenge fixes these.
        return challenge(failure=result)

    def unlock_user(self, user: str) -> bool:
        """Lift a user's lockout early (operator action); False when it was not locked."""
        return self.lockout is not None and self.lockout.unlock("user", user)

    def _credentials_for_realm(self, values: list[str]) -> str | None:
        """The credentials addressed to our realm; a lone unparsable value is returned as is
        so that verify() reports what is wrong with it."""
        if not values:
            return None
        for value in values:
            try:
                _, params = parse_auth_params(value)
            except ValueError:
                continue
            if params.get("realm") == self.authenticator.realm:
                return value
        if len(values) == 1:
            try:
                _, params = parse_auth_params(values[0])
            except ValueError:
                return values[0]
            if "realm" not in params:
                return values[0]
        return None

    # --- REGISTER -------------------------------------------------------------------------

    def handle_register(
        self, request: SipRequest, source: tuple[str, int], transport: str, now: float
    ) -> RegisterOutcome:
        """Process a REGISTER (RFC 3261 10.3) and return the response and binding changes."""
        if request.method != "REGISTER":
            return RegisterOutcome(405, "Method Not Allowed", [("Allow", "REGISTER")])
        try:
            user = self._aor_user(request)
        except _Refusal as refusal:
            return RegisterOutcome(refusal.status, refusal.reason, refusal.headers)

        auth = self.authenticate_request(request, now, source=source)
        if isinstance(auth, AuthRejection):
            return RegisterOutcome(
                auth.status, auth.reason, auth.headers, auth_failure=auth.failure
            )
        if auth.username != user:
            # Authenticated, but as someone else: do not let alice register bob's phone.
            failure = AuthResult(
                False, f"AOR user {user!r} differs from credentials", auth.username
            )
            return RegisterOutcome(
                403, "Forbidden: AOR does not match credentials", user=user, auth_failure=failure
            )

        try:
            changes = self._apply(request, user, source, transport, now)
        except _Refusal as refusal:
            return RegisterOutcome(refusal.status, refusal.reason, refusal.headers, user=user)

        headers = [("Contact", _contact_value(b, now)) for b in self.bindings(user, now)]
        headers.append(("Date", formatdate(now, usegmt=True)))
        return RegisterOutcome(200, "OK", headers, changes, user=user)

    def _aor_user(self, request: SipRequest) -> str:
        if "To" not in request.headers:
            raise _Refusal(400, "Missing To header")
        try:
            to = request.to_addr
        except HeaderError as exc:
            raise _Refusal(400, str(exc)[:120]) from None  # "Bad To: ..."
        try:
            aor = parse_uri(to.uri)
        except HeaderError as exc:
            raise _Refusal(400, f"Bad To: {exc}"[:120]) from None
        if not aor.user:
            raise _Refusal(400, "Bad To: address-of-record has no user part")
        if self._hosts is not None and aor.host.lower() not in self._hosts:
            raise _Refusal(404, f"Not Found: domain {aor.host} is not served here"[:120])
        return aor.user

    def _apply(
        self,
        request: SipRequest,
        user: str,
        source: tuple[str, int],
        transport: str,
        now: float,
    ) -> list[BindingChange]:
        """Validate the whole request first, then change bindings (all or nothing)."""
        call_id = request.call_id
        if not call_id:
            raise _Refusal(400, "Missing Call-ID")
        try:
            cseq = request.cseq.number
            contacts = request.contacts
        except HeaderError as exc:
            raise _Refusal(400, str(exc)[:120]) from None
        expires_header = request.headers.get("Expires")
        header_expires = (
            _parse_expires(expires_header, "Expires") if expires_header is not None else None
        )
        table = self._bindings.get(user, {})
        # Expired entries are treated as absent; expire() reports and drops them.
        current = {k: b for k, b in table.items() if b.expires_at > now}

        if any(c.uri == "*" for c in contacts):
            if len(contacts) != 1 or header_expires != 0:
                raise _Refusal(
                    400, "Invalid wildcard Contact: needs Expires: 0 and no other Contact"
                )
            for b in current.values():
                if b.call_id == call_id and cseq <= b.cseq:
                    raise _Refusal(500, "Out-of-order REGISTER")
            removed = [BindingChange("removed", b) for b in table.values()]
            self._bindings.pop(user, None)
            return removed

        user_agent = request.headers.get("User-Agent")
        planned: dict[str, Binding | None] = {}
        for address in contacts:
            expires_param = address.params.get("expires")
            if expires_param is not None:
                expires = _parse_expires(expires_param, "Contact expires")
            elif header_expires is not None:
                expires = header_expires
            else:
                expires = self.default_expires
            if 0 < expires < self.min_expires:
                raise _Refusal(423, "Interval Too Brief", [("Min-Expires", str(self.min_expires))])
            key = _contact_key(address.uri)
            existing = current.get(key)
            if existing is not None and existing.call_id == call_id and cseq <= existing.cseq:
                raise _Refusal(500, "Out-of-order REGISTER")
            if expires == 0:
                planned[key] = None
                continue
            planned[key] = Binding(
                user=user,
                contact=address.uri,
                expires_at=now + min(expires, self.max_expires),
                source=source,
                transport=transport.upper(),
                call_id=call_id,
                cseq=cseq,
                q=_parse_q(address.params.get("q")),
                user_agent=user_agent,
            )

        kept = {k for k in current if k not in planned}
        added = {k for k, b in planned.items() if b is not None}
        if len(kept | added) > self.max_bindings_per_user:
            raise _Refusal(403, f"Too many contacts (at most {self.max_bindings_per_user})")

        changes: list[BindingChange] = []
        table = self._bindings.setdefault(user, {})
        for key, new in planned.items():
            old = table.get(key)
            if new is None:
                if old is not None:
                    del table[key]
                    changes.append(BindingChange("removed", old))
            else:
                table[key] = new
                kind: BindingChangeKind = "refreshed" if key in current else "added"
                changes.append(BindingChange(kind, new))
        if not table:
            del self._bindings[user]
        return changes

    # --- location service -----------------------------------------------------------------

    def bindings(self, user: str, now: float) -> list[Binding]:
        """Live bindings of a user, best first (highest q, then most recently refreshed)."""
        live = [b for b in self._bindings.get(user, {}).values() if b.expires_at > now]
        return sorted(live, key=lambda b: (-b.q, -b.expires_at))

    def users(self) -> list[str]:
        return list(self._bindings)

    def expire(self, now: float) -> list[Binding]:
        """Drop bindings whose time has come; returns them (for logs and persistence)."""
        removed: list[Binding] = []
        for user in list(self._bindings):
            removed += self._drop_expired(user, now)
        return removed

    def next_expiry(self) -> float | None:
        """When :meth:`expire` next has work to do, to arm one timer."""
        return min(
            (b.expires_at for table in self._bindings.values() for b in table.values()),
            default=None,
        )

    def restore(self, binding: Binding) -> None:
        """Load a persisted binding (e.g. at start-up)."""
        self._bindings.setdefault(binding.user, {})[_contact_key(binding.contact)] = binding

    def export_bindings(self, now: float, user: str | None = None) -> list[dict[str, object]]:
        """The live bindings (of ``user``, or everybody's) as records for a store.

        With :meth:`import_bindings` this lets the layer above keep registrations across
        a restart: after each REGISTER with changes it exports that user's bindings.
        """
        users = [user] if user is not None else sorted(self._bindings)
        return [b.to_record() for u in users for b in self.bindings(u, now)]

    def import_bindings(
        self, records: Iterable[dict[str, Any]], now: float
    ) -> tuple[list[Binding], list[str]]:
        """Load exported records; expired ones are dropped. Returns the bindings restored
        and a description of each record that could not be read (skipped)."""
        restored: list[Binding] = []
        problems: list[str] = []
        for record in records:
            try:
                binding = Binding.from_record(record)
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"unreadable binding {record!r:.80}: {exc!r}")
                continue
            if binding.expires_at <= now:
                continue
            table = self._bindings.setdefault(binding.user, {})
            if len(table) >= self.max_bindings_per_user:
                problems.append(f"{binding.user}: more than {self.max_bindings_per_user} bindings")
                continue
            table[_contact_key(binding.contact)] = binding
            restored.append(binding)
        return restored, problems

    def _drop_expired(self, user: str, now: float) -> list[Binding]:
        table = self._bindings.get(user)
        if not table:
            return []
        gone = [k for k, b in table.items() if b.expires_at <= now]
        removed = [table.pop(k) for k in gone]
        if not table:
            del self._bindings[user]
        return removed


def _claimed_user(value: str) -> tuple[str | None, str | None]:
    """The username and nonce a credentials header claims (unchecked), for the lock test."""
    try:
        _, params = parse_auth_params(value)
    except ValueError:
        return None, None
    return params.get("username"), params.get("nonce")


def _contact_value(binding: Binding, now: float) -> str:
    q = "" if binding.q == 1.0 else f";q={binding.q:g}"
    return f"<{binding.contact}>;expires={binding.remaining(now)}{q}"
