"""SIP message model (RFC 3261 section 7): requests, responses and their headers.

No framing (see ``sip.parser``), no I/O. Header names are stored in their
canonical long form ("Via", "Call-ID", ...); look-ups are case-insensitive and
accept compact forms ("v", "i", ...).

The headers the stack works with are read as types, each parsed once per
message and kept until that header changes: ``top_via``, ``vias``, ``cseq``,
``from_addr``/``to_addr`` (and their tags), ``contacts``, ``call_id``. A
malformed value raises ``HeaderError`` (naming the problem) on every access.
The typed values are shared: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from sip.headers import (
    Address,
    CSeq,
    HeaderError,
    Via,
    find_tag,
    parse_address,
    parse_cseq,
    parse_via,
    split_header_values,
)

T = TypeVar("T")

# RFC 3261 section 7.3.3 plus the common extensions (RFC 3515 refer, 3903 event...).
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
    "x": "Session-Expires",
}

# Headers whose canonical spelling is not plain Title-Case.
_SPECIAL_CASE: dict[str, str] = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
    "rack": "RAck",
    "rseq": "RSeq",
    "sip-etag": "SIP-ETag",
    "sip-if-match": "SIP-If-Match",
}


# Canonical forms of names seen so far (every look-up needs one); bounded against junk names.
_canon_cache: dict[str, str] = {}
_CANON_CACHE_MAX = 2048


def canonical_name(name: str) -> str:
    """Return the canonical long form of a header name ("v" -> "Via", "call-id" -> "Call-ID")."""
    canon = _canon_cache.get(name)
    if canon is not None:
        return canon
    low = name.strip().lower()
    if low in COMPACT_FORMS:
        canon = COMPACT_FORMS[low]
    elif low in _SPECIAL_CASE:
        canon = _SPECIAL_CASE[low]
    else:
        canon = "-".join(part.capitalize() for part in low.split("-"))
    if len(_canon_cache) < _CANON_CACHE_MAX:
        _canon_cache[name] = canon
    return canon


class Headers:
    """Ordered, case-insensitive multi-map of header name -> raw value strings.

    Each stored value is one header *value* (a header line with several
    comma-separated values is split by the parser where RFC 3261 allows it).
    """

    __slots__ = ("_items", "_parsed")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(k), v) for k, v in items]
        # Typed values per canonical name and kind ("top", "all"...); dropped when it changes.
        self._parsed: dict[str, dict[str, object]] = {}

    def parsed(self, name: str, kind: str, parse: Callable[[Headers], T]) -> T:
        """The typed value ``kind`` of header ``name``: ``parse(self)``, run once until
        the header changes. A ``HeaderError`` it raises is kept and raised again."""
        by_kind = self._parsed.get(name)
        if by_kind is None:
            by_kind = self._parsed[name] = {}
        elif kind in by_kind:
            value = by_kind[kind]
            if isinstance(value, HeaderError):
                raise value.with_traceback(None)
            return value  # type: ignore[return-value]
        try:
            result = parse(self)
        except HeaderError as exc:
            by_kind[kind] = exc
            raise
        by_kind[kind] = result
        return result

    def _changed(self, key: str) -> None:
        if self._parsed:
            self._parsed.pop(key, None)

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of a header, or ``default``."""
        key = canonical_name(name)
        for k, v in self._items:
            if k == key:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        key = canonical_name(name)
        return [v for k, v in self._items if k == key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def add(self, name: str, value: str) -> None:
        """Append a value (after any existing values of the same header)."""
        key = canonical_name(name)
        self._items.append((key, value))
        self._changed(key)

    def prepend(self, name: str, value: str) -> None:
        """Insert a value before the first value of this header (e.g. a new top Via)."""
        key = canonical_name(name)
        self._changed(key)
        for i, (k, _) in enumerate(self._items):
            if k == key:
                self._items.insert(i, (key, value))
                return
        self._items.append((key, value))

    def set(self, name: str, value: str) -> None:
        """Replace all values of a header by one value (kept at the first one's place)."""
        key = canonical_name(name)
        self._changed(key)
        for i, (k, _) in enumerate(self._items):
            if k == key:
                self._items[i] = (key, value)
                self._items = [
                    item for j, item in enumerate(self._items) if j <= i or item[0] != key
                ]
                return
        self._items.append((key, value))

    def remove(self, name: str) -> None:
        key = canonical_name(name)
        self._changed(key)
        self._items = [item for item in self._items if item[0] != key]

    def pop_first(self, name: str) -> str | None:
        key = canonical_name(name)
        self._changed(key)
        for i, (k, v) in enumerate(self._items):
            if k == key:
                del self._items[i]
                return v
        return None

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def copy(self) -> Headers:
        h = Headers()
        h._items = list(self._items)
        h._parsed = {k: dict(v) for k, v in self._parsed.items()}  # values are shared, read-only
        return h

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def _required(headers: Headers, name: str) -> str:
    value = headers.get(name)
    if value is None:
        raise HeaderError(f"Missing {name}")
    return value


def _top_via(headers: Headers) -> Via:
    return parse_via(_required(headers, "Via"))


def _all_vias(headers: Headers) -> tuple[Via, ...]:
    top = headers.parsed("Via", "top", _top_via)  # usually parsed already
    return (top, *(parse_via(v) for v in headers.get_all("Via")[1:]))


def _cseq(headers: Headers) -> CSeq:
    return parse_cseq(_required(headers, "CSeq"))


def _address(name: str) -> Callable[[Headers], Address]:
    def parse(headers: Headers) -> Address:
        value = _required(headers, name)
        try:
            return parse_address(value)
        except HeaderError as exc:
            raise HeaderError(f"Bad {name}: {exc}") from None

    return parse


def _tag(name: str) -> Callable[[Headers], str | None]:
    address = _address(name)

    def parse(headers: Headers) -> str | None:
        try:
            return headers.parsed(name, "address", address).tag
        except HeaderError:
            value = headers.get(name)
            return find_tag(value) if value is not None else None

    return parse


def _contacts(headers: Headers) -> tuple[Address, ...]:
    out: list[Address] = []
    for value in headers.get_all("Contact"):
        for part in split_header_values(value):  # values added by code may hold a list
            try:
                out.append(parse_address(part))
            except HeaderError as exc:
                raise HeaderError(f"Bad Contact: {exc}") from None
    return tuple(out)


_FROM, _TO = _address("From"), _address("To")
_FROM_TAG, _TO_TAG = _tag("From"), _tag("To")


class _TypedHeaders:
    """Typed views of the headers every SIP layer reads (see the module docstring)."""

    __slots__ = ()
    headers: Headers

    @property
    def call_id(self) -> str | None:
        return self.headers.get("Call-ID")

    @property
    def top_via(self) -> Via:
        """The top Via: where responses go (sent-by, branch, received/rport)."""
        return self.headers.parsed("Via", "top", _top_via)

    @property
    def vias(self) -> tuple[Via, ...]:
        """Every Via value, top first."""
        return self.headers.parsed("Via", "all", _all_vias)

    @property
    def cseq(self) -> CSeq:
        return self.headers.parsed("CSeq", "", _cseq)

    @property
    def from_addr(self) -> Address:
        return self.headers.parsed("From", "address", _FROM)

    @property
    def to_addr(self) -> Address:
        return self.headers.parsed("To", "address", _TO)

    @property
    def from_tag(self) -> str | None:
        """The From tag; found textually when the rest of the From is malformed."""
        return self.headers.parsed("From", "tag", _FROM_TAG)

    @property
    def to_tag(self) -> str | None:
        """The To tag (None outside a dialog); tolerant like ``from_tag``."""
        return self.headers.parsed("To", "tag", _TO_TAG)

    @property
    def contacts(self) -> tuple[Address, ...]:
        return self.headers.parsed("Contact", "all", _contacts)

    def set_top_via(self, via: Via) -> None:
        """Replace the top Via (e.g. received/rport stamped) and keep its typed value."""
        headers = self.headers
        headers.pop_first("Via")
        headers.prepend("Via", str(via))
        headers._parsed["Via"] = {"top": via}


@dataclass
class SipRequest(_TypedHeaders):
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    # Out of repr: an SDP body may hold SRTP keys (a=crypto), and reprs reach logs.
    body: bytes = field(default=b"", repr=False)
    version: str = "SIP/2.0"


@dataclass
class SipResponse(_TypedHeaders):
    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    # Out of repr: an SDP body may hold SRTP keys (a=crypto), and reprs reach logs.
    body: bytes = field(default=b"", repr=False)
    version: str = "SIP/2.0"


SipMessage = SipRequest | SipResponse
