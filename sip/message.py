"""SIP message model (RFC 3261 section 7): requests, responses and their headers.

Pure data: no parsing (see ``sip.parser``), no I/O. Header names are stored in
their canonical long form ("Via", "Call-ID", ...); look-ups are case-insensitive
and accept compact forms ("v", "i", ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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


def canonical_name(name: str) -> str:
    """Return the canonical long form of a header name ("v" -> "Via", "call-id" -> "Call-ID")."""
    low = name.strip().lower()
    if low in COMPACT_FORMS:
        return COMPACT_FORMS[low]
    if low in _SPECIAL_CASE:
        return _SPECIAL_CASE[low]
    return "-".join(part.capitalize() for part in low.split("-"))


class Headers:
    """Ordered, case-insensitive multi-map of header name -> raw value strings.

    Each stored value is one header *value* (a header line with several
    comma-separated values is split by the parser where RFC 3261 allows it).
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(k), v) for k, v in items]

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
        self._items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        """Insert a value before the first value of this header (e.g. a new top Via)."""
        key = canonical_name(name)
        for i, (k, _) in enumerate(self._items):
            if k == key:
                self._items.insert(i, (key, value))
                return
        self._items.append((key, value))

    def set(self, name: str, value: str) -> None:
        """Replace all values of a header by one value (kept at the first one's place)."""
        key = canonical_name(name)
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
        self._items = [item for item in self._items if item[0] != key]

    def pop_first(self, name: str) -> str | None:
        key = canonical_name(name)
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
        return h

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class SipRequest:
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = "SIP/2.0"

    @property
    def call_id(self) -> str | None:
        return self.headers.get("Call-ID")


@dataclass
class SipResponse:
    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = "SIP/2.0"

    @property
    def call_id(self) -> str | None:
        return self.headers.get("Call-ID")


SipMessage = SipRequest | SipResponse
