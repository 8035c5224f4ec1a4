"""SIP message parsing, serialisation and stream framing (RFC 3261 sections 7 and 18.3).

Sans-IO: bytes in, ``SipRequest``/``SipResponse`` out. The parser splits the
start line and header lines, checks framing and the headers every message
needs (Via, From, To, Call-ID, CSeq); the CSeq (and, for an error answer, the
top Via) it parses stay on the message as typed values, the others are parsed
on first use and kept (``sip.message``). ``sip.validate`` does the semantic
checks a UAS makes before processing a request.
"""

from __future__ import annotations

import re

from sip.headers import HeaderError, parse_cseq, split_header_values
from sip.message import SipRequest, SipResponse, canonical_name

__all__ = ["MAX_MESSAGE_SIZE", "SipParseError", "StreamFramer", "parse_message", "serialize"]

MAX_MESSAGE_SIZE = 65536

# Headers whose grammar is a comma-separated list (RFC 3261 section 20); others
# (WWW-Authenticate, Authorization, Date...) may contain commas inside one value.
LIST_HEADERS = frozenset(
    {
        "Via",
        "Contact",
        "Route",
        "Record-Route",
        "Path",
        "Service-Route",
        "Allow",
        "Allow-Events",
        "Supported",
        "Require",
        "Proxy-Require",
        "Unsupported",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Content-Encoding",
        "Content-Language",
        "In-Reply-To",
        "Alert-Info",
        "Call-Info",
        "Error-Info",
        "Warning",
    }
)
# Headers that may appear only once (RFC 3261 section 20 / RFC 4475 section 3.3.8).
_SINGLE_HEADERS = ("Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length")
_REQUIRED_HEADERS = ("Call-ID", "From", "To", "CSeq", "Via")

_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_REQUEST_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>]+")
_VERSION_RE = re.compile(r"SIP/\d+\.\d+", re.I)

# Canonical names of header names seen so far; bounded so junk names cannot grow it.
_canon_cache: dict[str, str] = {}
_CANON_CACHE_MAX = 2048


class SipParseError(Exception):
    """A message that cannot be parsed; ``status``/``reason`` form the answer to send.

    ``message`` is the partially parsed request when a response can still be
    routed (a request, not ACK, whose top Via parses), else None; its body is
    empty when the error leaves the body's length unknown.
    """

    def __init__(
        self, status: int, reason: str, message: SipRequest | SipResponse | None = None
    ) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.message = message


def _canonical(name: str) -> str:
    canon = _canon_cache.get(name)
    if canon is None:
        canon = canonical_name(name)
        if len(_canon_cache) < _CANON_CACHE_MAX:
            _canon_cache[name] = canon
    return canon


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Parse one complete message (a UDP datagram or a framed TCP message).

    Without Content-Length the body is the rest of the datagram; octets after
    Content-Length bytes are ignored (RFC 3261 section 18.3). Raises only
    ``SipParseError``.
    """
    try:
        return _parse(data)
    except SipParseError:
        raise
    except Exception as exc:  # last-resort guard: bad input must never crash a transport
        raise SipParseError(400, "Malformed message") from exc


def _parse(data: bytes) -> SipRequest | SipResponse:
    if len(data) > MAX_MESSAGE_SIZE:
        raise SipParseError(513, "Message Too Large")
    start = 0
    # RFC 3261 section 7.5: CRLFs before the start line are ignored.
    while data.startswith(b"\r\n", start):
        start += 2
    end = data.find(b"\r\n\r\n", start)
    if end >= 0:
        body_start = end + 4
    else:
        end = data.find(b"\n\n", start)
        if end >= 0:
            body_start = end + 2
        else:
            # No empty line: a datagram's end also ends its header section.
            end = len(data.rstrip(b"\r\n"))
            body_start = len(data)
    if end <= start:
        raise SipParseError(400, "Empty message")
    head = data[start:end].decode("utf-8", "surrogateescape")
    lines = head.split("\r\n")
    if head.count("\n") != len(lines) - 1:  # bare LF line ends
        lines = [line.rstrip("\r") for line in head.split("\n")]

    msg: SipRequest | SipResponse
    first_error: SipParseError | None = None
    try:
        msg = _parse_start_line(lines[0])
    except SipParseError as exc:
        # Keep going with a stand-in request: its top Via may still route the 400.
        stand_in = _request_stand_in(lines[0])
        if stand_in is None:
            raise
        msg, first_error = stand_in, exc
    if "\n " in head or "\n\t" in head:
        lines = _unfold(lines)
    try:
        items, content_length, seen, header_error = _parse_header_lines(lines)
    except SipParseError:
        if first_error is not None:
            raise first_error from None
        raise
    headers = msg.headers  # the message's own, still empty
    headers._items = items  # names are already canonical: skip re-normalising
    first_error = first_error or header_error

    if first_error is None and content_length is None:
        msg.body = data[body_start:]
    elif first_error is None and content_length is not None:
        if content_length > len(data) - body_start:
            first_error = SipParseError(400, "Content-Length exceeds message")
        else:
            msg.body = data[body_start : body_start + content_length]
    if first_error is None:
        missing = [name for name in _REQUIRED_HEADERS if name not in seen]
        if missing:
            first_error = SipParseError(400, "Missing " + ", ".join(missing))
    if first_error is None:
        try:
            # Parsed here once, kept on the message as its typed CSeq for every layer.
            headers._parsed["CSeq"] = {"": parse_cseq(headers.get("CSeq") or "")}
        except HeaderError:
            first_error = SipParseError(400, "Bad CSeq")
    if first_error is not None:
        # RFC 3261 21.4.1: answer 400 whenever the top Via says where to.
        raise SipParseError(first_error.status, first_error.reason, _routable(msg))
    return msg


def _request_stand_in(line: str) -> SipRequest | None:
    """A request for a malformed Request-Line that still names a method and SIP."""
    parts = line.split()
    if len(parts) < 2 or _TOKEN_RE.fullmatch(parts[0]) is None:
        return None
    if _VERSION_RE.fullmatch(parts[-1]) is None:
        return None
    return SipRequest(parts[0], " ".join(parts[1:-1]), version=parts[-1].upper())


def _parse_start_line(line: str) -> SipRequest | SipResponse:
    if line.startswith("SIP/") or line[:4].upper() == "SIP/":
        parts = line.split(" ", 2)
        if len(parts) < 2 or _VERSION_RE.fullmatch(parts[0]) is None:
            raise SipParseError(400, "Bad Status-Line")
        code = parts[1]
        if len(code) != 3 or not code.isdigit() or not code.isascii() or code[0] not in "123456":
            raise SipParseError(400, "Bad Status-Line: status code")
        reason = parts[2] if len(parts) == 3 else ""
        return SipResponse(int(code), reason, version=parts[0].upper())
    parts = line.split(" ")
    if len(parts) != 3:
        raise SipParseError(400, "Bad Request-Line")
    method, uri, version = parts
    if _TOKEN_RE.fullmatch(method) is None:
        raise SipParseError(400, "Bad Request-Line: method")
    if _REQUEST_URI_RE.fullmatch(uri) is None:
        raise SipParseError(400, "Bad Request-URI")
    if _VERSION_RE.fullmatch(version) is None:
        raise SipParseError(400, "Bad Request-Line: version")
    return SipRequest(method, uri, version=version.upper())


def _parse_header_lines(
    lines: list[str],
) -> tuple[list[tuple[str, str]], int | None, set[str], SipParseError | None]:
    """Turn header lines into (canonical name, value) items.

    Returns the items, the Content-Length value, the names of single-valued
    headers seen (plus "Via" when present) and the first error that still
    leaves a well-formed header section (a repeated or bad single header):
    the caller can then answer it. Broken lines raise at once.
    """
    error: SipParseError | None = None
    items: list[tuple[str, str]] = []
    append = items.append
    seen_single: set[str] = set()
    content_length: int | None = None
    cache = _canon_cache
    for i in range(1, len(lines)):
        line = lines[i]
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        canon = cache.get(name)
        if canon is None:
            if not colon:
                raise SipParseError(400, "Bad header line: missing ':'")
            if _TOKEN_RE.fullmatch(name) is None:
                raise SipParseError(400, "Bad header line: bad header name")
            canon = _canonical(name)
        elif not colon:
            raise SipParseError(400, "Bad header line: missing ':'")
        value = value.strip()
        if canon == "Via":
            seen_single.add(canon)
        if canon in LIST_HEADERS and "," in value:
            for part in split_header_values(value):
                if part:
                    append((canon, part))
                elif canon == "Via":  # no usable top Via: nowhere to answer
                    raise SipParseError(400, "Bad Via: empty list element")
                else:
                    error = error or SipParseError(400, f"Bad {canon}: empty list element")
            continue
        if canon in _SINGLE_SET:
            if canon in seen_single:
                error = error or SipParseError(400, f"Multiple {canon} headers")
            seen_single.add(canon)
            if canon == "Content-Length":
                if not value.isdigit() or not value.isascii() or len(value) > 9:
                    error = error or SipParseError(400, "Bad Content-Length")
                elif content_length is None:
                    content_length = int(value)
        append((canon, value))
    return items, content_length, seen_single, error


def _unfold(lines: list[str]) -> list[str]:
    """Join continuation lines (leading SP/HTAB) to the header line they continue."""
    out = [lines[0]]
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            if len(out) == 1:
                raise SipParseError(400, "Bad header line: continuation without header")
            out[-1] = out[-1].rstrip(" \t") + " " + line.strip(" \t")
        else:
            out.append(line)
    return out


_SINGLE_SET = frozenset(_SINGLE_HEADERS)


def _routable(msg: SipRequest | SipResponse) -> SipRequest | None:
    """The request itself when an error response to it can be routed (its top Via parses).

    The response copies whichever of From, To, Call-ID and CSeq the request has.
    """
    if not isinstance(msg, SipRequest) or msg.method == "ACK":
        return None
    try:
        msg.top_via  # noqa: B018 - kept on the message for the answer
    except HeaderError:
        return None
    return msg


def serialize(msg: SipRequest | SipResponse) -> bytes:
    """Encode a message; Content-Length is always written from the body."""
    if isinstance(msg, SipRequest):
        out = [f"{msg.method} {msg.uri} {msg.version}\r\n"]
    else:
        out = [f"{msg.version} {msg.status} {msg.reason}\r\n"]
    for name, value in msg.headers:
        if name != "Content-Length":
            out.append(f"{name}: {value}\r\n")
    out.append(f"Content-Length: {len(msg.body)}\r\n\r\n")
    return "".join(out).encode("utf-8", "surrogateescape") + msg.body


class StreamFramer:
    """Cuts a byte stream (TCP/TLS) into messages by Content-Length (RFC 3261 section 18.3).

    CRLFs between messages (keep-alives, RFC 5626) are skipped. After an error
    the stream cannot be resynchronised: every later ``feed`` raises it again.
    The error carries the request when a 400 can still be routed (see
    ``SipParseError``), so the adapter can answer before closing.
    """

    def __init__(self, max_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buf = bytearray()
        self._max = max_size
        self._error: SipParseError | None = None

    @property
    def buffered(self) -> int:
        """Bytes of a message not complete yet (0 between messages)."""
        return len(self._buf.strip(b"\r\n")) if len(self._buf) <= 4 else len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        if self._error is not None:
            raise self._error
        self._buf += data
        out: list[bytes] = []
        try:
            while self._next(out):
                pass
        except SipParseError as exc:
            self._error = exc
            self._buf.clear()
            raise
        return out

    def _next(self, out: list[bytes]) -> bool:
        buf = self._buf
        skip = 0
        while buf[skip : skip + 2] == b"\r\n":
            skip += 2
        if skip:
            del buf[:skip]
        if buf == b"\r":  # half of a keep-alive CRLF
            return False
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self._max:
                # Headers alone too big: answer from the complete header lines, if any.
                raise SipParseError(513, "Message Too Large", _routable_head(buf, self._max))
            return False
        head = bytes(buf[:end])
        try:
            length = _stream_content_length(head)
        except SipParseError as exc:
            raise SipParseError(exc.status, exc.reason, _routable_head(head)) from None
        total = end + 4 + length
        if total > self._max:
            # The head itself may be what is too large (one huge header line).
            raise SipParseError(513, "Message Too Large", _routable_head(head, self._max))
        if len(buf) < total:
            return False
        out.append(bytes(buf[:total]))
        del buf[:total]
        return True


def _routable_head(head: bytes | bytearray, limit: int | None = None) -> SipRequest | None:
    """The request a stream's unframeable header section belongs to, if it can be answered
    (``limit``: only its complete header lines within that many bytes)."""
    if limit is not None and len(head) > limit - 4:
        cut = head.rfind(b"\r\n", 0, limit - 4)
        head = head[:cut] if cut > 0 else b""
    head = bytes(head)
    try:
        msg = parse_message(head + b"\r\n\r\n")
    except SipParseError as exc:
        return exc.message if isinstance(exc.message, SipRequest) else None
    return _routable(msg)


_CL_LINE_RE = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*$", re.I | re.M)


def _stream_content_length(head: bytes) -> int:
    values = _CL_LINE_RE.findall(head)
    if not values:
        raise SipParseError(400, "Missing Content-Length")
    if len(values) > 1:
        raise SipParseError(400, "Multiple Content-Length headers")
    value = values[0].rstrip(b"\r")
    if not value.isdigit() or len(value) > 9:
        raise SipParseError(400, "Bad Content-Length")
    return int(value)
