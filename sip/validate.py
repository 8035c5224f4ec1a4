"""Checks a UAS makes on a parsed request before processing it (RFC 3261 section 8.2).

``check_request`` returns the (status, reason) to answer with, or None when the
request may go on to the application. Checks follow the RFC's order: syntax
(400/505), method (501), URI scheme (416), hop count (483), extensions (420),
then content (415/406).
"""

from __future__ import annotations

from sip.headers import (
    HeaderError,
    parse_address,
    split_header_values,
)
from sip.message import SipRequest
from sip.uri import UnsupportedScheme, parse_uri, uri_scheme

__all__ = ["DEFAULT_MEDIA_TYPES", "check_request", "unsupported_options"]

DEFAULT_MEDIA_TYPES = frozenset({"application/sdp"})
_MAGIC_COOKIE = "z9hG4bK"
# Methods whose body the UAS must understand and that can be answered (not ACK).
_BODY_METHODS = frozenset({"INVITE", "UPDATE", "PRACK"})
_ROUTE_HEADERS = ("Route", "Record-Route")  # From/To/Contact: the typed values


def unsupported_options(req: SipRequest, supported: frozenset[str]) -> list[str]:
    """Option tags in Require that are not in ``supported`` (for the 420's Unsupported)."""
    if req.method in ("ACK", "CANCEL"):  # RFC 3261 section 8.2.2.3: Require ignored there
        return []
    wanted: list[str] = []
    for value in req.headers.get_all("Require"):
        for tag in split_header_values(value):
            if tag and tag not in supported and tag not in wanted:
                wanted.append(tag)
    return wanted


def check_request(
    req: SipRequest,
    *,
    supported: frozenset[str] = frozenset(),
    methods: frozenset[str] | None = None,
    media_types: frozenset[str] | None = DEFAULT_MEDIA_TYPES,
) -> tuple[int, str] | None:
    """Return (status, reason) to reject ``req`` with, or None if it is acceptable.

    ``supported``: option tags this UAS implements (Require checks, 420).
    ``methods``: methods this UAS implements; others get 501 (None: no check).
    ``media_types``: body types understood for INVITE/UPDATE/PRACK (415) and
    offered in answers (406 against Accept); None disables both checks.
    A 420 answer must carry ``Unsupported: <unsupported_options(req, supported)>``.
    """
    if req.version != "SIP/2.0":
        return 505, "Version Not Supported"
    problem = _check_syntax(req)
    if problem is not None:
        return problem
    if methods is not None and req.method not in methods:
        return 501, "Not Implemented"
    scheme = uri_scheme(req.uri)
    if scheme not in ("sip", "sips"):
        return 416, "Unsupported URI Scheme"
    try:
        uri = parse_uri(req.uri)
    except UnsupportedScheme:
        return 416, "Unsupported URI Scheme"
    except HeaderError as exc:
        return 400, f"Bad Request-URI: {_detail(exc)}"
    if uri.headers:
        return 400, "Bad Request-URI: headers not allowed"
    if req.method == "REGISTER":
        to_uri = req.to_addr.uri
        if uri_scheme(to_uri) not in ("sip", "sips"):
            return 400, "Bad To: address-of-record must be a SIP or SIPS URI"
    max_forwards = req.headers.get("Max-Forwards")
    if max_forwards is not None and int(max_forwards) == 0 and req.method != "OPTIONS":
        return 483, "Too Many Hops"
    if unsupported_options(req, supported):
        return 420, "Bad Extension"
    if media_types is not None:
        return _check_content(req, media_types)
    return None


def _detail(exc: HeaderError) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("Bad ") and ": " in text else text


def _check_syntax(req: SipRequest) -> tuple[int, str] | None:
    headers = req.headers
    for name in ("Call-ID", "From", "To", "CSeq", "Via"):
        if name not in headers:
            return 400, f"Missing {name}"
    try:
        cseq = req.cseq
    except HeaderError:
        return 400, "Bad CSeq"
    if cseq.method != req.method:
        return 400, "CSeq method mismatch"
    try:
        top_branch = req.vias[0].branch
        # Parsed once here, kept on the message for the transaction and dialog layers.
        req.from_addr  # noqa: B018
        req.to_addr  # noqa: B018
        req.contacts  # noqa: B018
    except HeaderError as exc:
        return 400, str(exc)
    rfc3261 = top_branch is not None and top_branch.startswith(_MAGIC_COOKIE)
    if top_branch == _MAGIC_COOKIE:
        return 400, "Bad Via: branch has only the magic cookie"

    for name in _ROUTE_HEADERS:
        for value in headers.get_all(name):
            try:
                parse_address(value)
            except HeaderError as exc:
                return 400, f"Bad {name}: {exc}"

    max_forwards = headers.get("Max-Forwards")
    if max_forwards is None:
        # RFC 2543 clients (no magic cookie) sent none; RFC 4475 section 3.4.1.
        if rfc3261:
            return 400, "Missing Max-Forwards"
    elif not (max_forwards.isdigit() and max_forwards.isascii() and int(max_forwards) <= 255):
        return 400, "Bad Max-Forwards"

    length = headers.get("Content-Length")
    if length is not None and (not length.isdigit() or int(length) != len(req.body)):
        return 400, "Content-Length does not match body"
    if req.body and "Content-Type" not in headers:
        return 400, "Missing Content-Type"
    return None


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _check_content(req: SipRequest, media_types: frozenset[str]) -> tuple[int, str] | None:
    if req.method not in _BODY_METHODS:
        return None
    headers = req.headers
    if req.body:
        encoding = headers.get("Content-Encoding")
        if encoding is not None and encoding.strip().lower() not in ("", "identity"):
            return 415, "Unsupported Media Type"
        if _media_type(headers.get("Content-Type") or "") not in media_types:
            return 415, "Unsupported Media Type"
    accepts = headers.get_all("Accept")
    if req.method == "INVITE" and accepts and any(a.strip() for a in accepts):
        offered = {_media_type(a) for a in accepts}
        if not any(_accepts(pattern, mt) for pattern in offered for mt in media_types):
            return 406, "Not Acceptable"
    return None


def _accepts(pattern: str, media_type: str) -> bool:
    if pattern in ("*/*", media_type):
        return True
    major, _, minor = pattern.partition("/")
    return minor == "*" and media_type.startswith(major + "/")
