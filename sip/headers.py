"""Structured SIP header values (RFC 3261 sections 7.3, 20 and 25.1), parsed on demand.

The parser stores raw header strings; the message object turns the ones the
stack needs into these types once and keeps them (``SipRequest.top_via``,
``.cseq``, ``.from_addr``...); the functions here do the parsing
(``parse_via``, ``parse_address``, ``parse_cseq``). Each function
raises ``HeaderError`` whose message names the header and the problem, ready
to be used as a 400 reason phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "Address",
    "CSeq",
    "HeaderError",
    "find_tag",
    "Via",
    "parse_address",
    "parse_cseq",
    "parse_params",
    "parse_via",
    "split_header_values",
]

# token chars, RFC 3261 section 25.1: alphanum and - . ! % * _ + ` ' ~
TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_TOKEN_LWS_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~]+)*")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
_MAX_CSEQ = 2**32 - 1

# sent-protocol SLASH-separated with optional LWS, then sent-by (host[:port]) and params.
_VIA_RE = re.compile(
    r"([^\s/]+)\s*/\s*([^\s/]+)\s*/\s*([^\s/;:]+)\s+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+)"
    r"(?:\s*:\s*(\d{1,5}))?"
    r"\s*(;.*)?",
    re.S,
)
_VIA_PROTO_RE = re.compile(r"([^\s/]+)\s*/\s*([^\s/]+)\s*/\s*([^\s/;:]+)\s*", re.S)


class HeaderError(ValueError):
    """A header value that does not follow its grammar; the message names the problem."""


def split_header_values(value: str) -> list[str]:
    """Split a comma-separated header value, ignoring commas inside quotes and <...>.

    Elements are stripped; an empty element is kept as "" so callers can reject it.
    """
    if "," not in value:
        return [value.strip()]
    if '"' not in value and "<" not in value:
        return [part.strip() for part in value.split(",")]
    parts: list[str] = []
    start = 0
    in_quotes = False
    in_angle = False
    escaped = False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif in_quotes:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                in_quotes = False
        elif ch == '"':
            in_quotes = True
        elif ch == "<":
            in_angle = True
        elif ch == ">":
            in_angle = False
        elif ch == "," and not in_angle:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return parts


def _split_semicolons(text: str) -> list[str]:
    """Split on ';' outside quoted strings."""
    if '"' not in text:
        return text.split(";")
    parts: list[str] = []
    start = 0
    in_quotes = False
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif in_quotes:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                in_quotes = False
        elif ch == '"':
            in_quotes = True
        elif ch == ";":
            parts.append(text[start:i])
            start = i + 1
    if in_quotes:
        raise HeaderError("unterminated quoted string in parameters")
    parts.append(text[start:])
    return parts


def parse_params(text: str) -> dict[str, str | None]:
    """Parse generic parameters: ";a=b;c" -> {"a": "b", "c": None}.

    Names are lower-cased (they are case-insensitive); values are kept as
    written, quoted strings with their quotes, so they serialise back unchanged.
    """
    text = text.strip()
    if not text:
        return {}
    if text[0] == ";":
        text = text[1:]
    params: dict[str, str | None] = {}
    for part in _split_semicolons(text):
        name, eq, val = part.partition("=")
        name = name.strip()
        if not name or TOKEN_RE.fullmatch(name) is None:
            raise HeaderError(f"bad parameter name {name!r}" if name else "empty parameter")
        if eq:
            val = val.strip()
            if not val:
                raise HeaderError(f"empty value for parameter {name!r}")
            if val[0] != '"' and any(c in val for c in " \t,<>"):
                raise HeaderError(f"bad value for parameter {name!r}")
            params[name.lower()] = val
        else:
            params[name.lower()] = None
    return params


def format_params(params: dict[str, str | None]) -> str:
    """Serialise parameters as ';a=b;c'."""
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


@dataclass
class Via:
    """One Via header value: the hop a request passed and where responses go back."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def sent_by(self) -> tuple[str, int | None]:
        """host (IPv6 in brackets, as written) and port, if any (RFC 3261 18.2.2)."""
        return self.host, self.port

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> int | None:
        """The rport value a server filled in (RFC 3581); None when absent or still empty."""
        value = self.params.get("rport")
        return int(value) if value is not None and value.isdigit() else None

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {self.host}{port}{format_params(self.params)}"


def parse_via(value: str) -> Via:
    """Parse one Via value ("SIP/2.0/UDP host:port;branch=..."); IPv6 hosts keep brackets."""
    text = value.strip()
    m = _VIA_RE.fullmatch(text)
    if m is None:
        proto = _VIA_PROTO_RE.match(text)
        if proto is None:
            raise HeaderError("Bad Via: malformed sent-protocol")
        rest = text[proto.end() :]
        if not rest or rest[0] in ";:":
            raise HeaderError("Bad Via: missing host")
        raise HeaderError("Bad Via: malformed sent-by")
    name, _version, transport, host, port_text, params_text = m.groups()
    if name.upper() != "SIP":
        raise HeaderError(f"Bad Via: unknown protocol {name!r}")
    port: int | None = None
    if port_text is not None:
        port = int(port_text)
        if not 0 < port < 65536:
            raise HeaderError("Bad Via: port out of range")
    try:
        params = parse_params(params_text) if params_text else {}
    except HeaderError as exc:
        raise HeaderError(f"Bad Via: {exc}") from None
    return Via(transport.upper(), host, port, params)


def _quote(display: str) -> str:
    return '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Address:
    """A name-addr or addr-spec with header parameters (From, To, Contact, Route...).

    ``display`` is the unquoted, unescaped display name; ``uri`` is kept as
    written (parse it with ``sip.uri.parse_uri`` when needed).
    """

    display: str | None
    uri: str
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def __str__(self) -> str:
        if self.uri == "*":
            return "*"
        display = f"{_quote(self.display)} " if self.display else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted string starting at text[start] == '"'; return (unescaped, index after)."""
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                break
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise HeaderError("unterminated quoted string")


def parse_address(value: str) -> Address:
    """Parse a name-addr ('"Bob" <sip:bob@host>;tag=1') or addr-spec ('sip:bob@host;tag=1').

    In the addr-spec form every ';' parameter belongs to the header, not the URI
    (RFC 3261 section 20.10), and a URI with ',', '?' or ';' must be in <>.
    """
    text = value.strip()
    if text == "*":
        return Address(None, "*", {})
    display: str | None = None
    if text.startswith('"'):
        display, pos = _read_quoted(text, 0)
        lt = text.find("<", pos)
        if lt < 0 or text[pos:lt].strip():
            raise HeaderError("expected <URI> after display name")
    else:
        lt = text.find("<")
        if lt >= 0:
            words = text[:lt].strip()
            if words:
                if _TOKEN_LWS_RE.fullmatch(words) is None:
                    raise HeaderError("display name must be a token list or quoted string")
                display = " ".join(words.split())
    if lt >= 0:
        gt = text.find(">", lt + 1)
        if gt < 0:
            raise HeaderError("missing '>'")
        uri = text[lt + 1 : gt]
        rest = text[gt + 1 :].strip()
        if rest and rest[0] != ";":
            raise HeaderError("unexpected text after '>'")
    else:
        uri, _, rest = text.partition(";")
        uri = uri.strip()
        rest = rest and ";" + rest
        if any(c in uri for c in ',?>"'):
            raise HeaderError("URI with ',' or '?' must be enclosed in <>")
    if not uri:
        raise HeaderError("missing URI")
    if any(c in uri for c in " \t\r\n<"):
        raise HeaderError("whitespace in URI")
    if _SCHEME_RE.match(uri) is None:
        raise HeaderError("URI has no scheme")
    return Address(display, uri, parse_params(rest) if rest else {})


class CSeq(NamedTuple):
    """A CSeq value: sequence number and method (RFC 3261 20.16)."""

    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


_TAG_RE = re.compile(r";\s*tag\s*=\s*([^;,>\s]+)", re.I)


def find_tag(value: str) -> str | None:
    """The tag of a From/To value that may not parse (a 400 still needs its To tag)."""
    match = _TAG_RE.search(value)
    return match.group(1) if match else None


def parse_cseq(value: str) -> CSeq:
    """Parse a CSeq value ("0009 INVITE" -> (9, "INVITE")); number must fit 32 bits."""
    parts = value.split()
    if len(parts) != 2:
        raise HeaderError("Bad CSeq: expected '<number> <method>'")
    number, method = parts
    if not number.isdigit() or not number.isascii():
        raise HeaderError("Bad CSeq: sequence number is not a number")
    if len(number.lstrip("0")) > 10 or int(number) > _MAX_CSEQ:
        raise HeaderError("Bad CSeq: sequence number too large")
    if TOKEN_RE.fullmatch(method) is None:
        raise HeaderError("Bad CSeq: bad method")
    return CSeq(int(number), method)
