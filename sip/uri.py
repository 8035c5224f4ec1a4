"""SIP and SIPS URIs (RFC 3261 sections 19.1 and 25.1).

Parts are kept as written, %-escapes included, so a URI serialises back
unchanged; use ``unescape`` where a decoded value is needed (escapes are
decoded exactly once: "value%2541" is "value%41", never "valueA").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sip.headers import HeaderError, format_params

__all__ = ["SipUri", "UnsupportedScheme", "parse_uri", "unescape", "uri_scheme"]

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*):")
_HOST_RE = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")


class UnsupportedScheme(HeaderError):
    """A well-formed URI whose scheme is not sip/sips (answer 416 to a Request-URI)."""

    def __init__(self, scheme: str) -> None:
        super().__init__(f"Unsupported URI scheme {scheme!r}")
        self.scheme = scheme


@dataclass
class SipUri:
    scheme: str
    user: str | None
    password: str | None
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        userinfo = ""
        if self.user is not None:
            userinfo = self.user
            if self.password is not None:
                userinfo += ":" + self.password
            userinfo += "@"
        port = f":{self.port}" if self.port is not None else ""
        headers = "&".join(f"{k}={v}" for k, v in self.headers.items())
        query = f"?{headers}" if headers else ""
        return f"{self.scheme}:{userinfo}{self.host}{port}{format_params(self.params)}{query}"


def uri_scheme(text: str) -> str | None:
    """Lower-case scheme of any absolute URI, or None if it has none."""
    m = _SCHEME_RE.match(text.strip())
    return m.group(1).lower() if m else None


def unescape(text: str) -> str:
    """Decode %HH escapes once (RFC 3261 section 19.1.4)."""
    if "%" not in text:
        return text
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)


def parse_uri(text: str) -> SipUri:
    """Parse a sip:/sips: URI; raises UnsupportedScheme for other schemes, else HeaderError."""
    text = text.strip()
    m = _SCHEME_RE.match(text)
    if m is None:
        raise HeaderError("Bad URI: missing scheme")
    scheme = m.group(1).lower()
    if scheme not in ("sip", "sips"):
        raise UnsupportedScheme(scheme)
    rest = text[m.end() :]
    if not rest or any(c in rest for c in ' \t\r\n<>"'):
        raise HeaderError("Bad URI: empty or contains whitespace, '<', '>' or '\"'")
    user: str | None = None
    password: str | None = None
    # '@' cannot appear unescaped after the userinfo, but ';' and '?' can appear in it.
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, colon, pw = userinfo.partition(":")
        password = pw if colon else None
        if not user:
            raise HeaderError("Bad URI: empty user")
    hostport_end = len(rest)
    for sep in ";?":
        i = rest.find(sep)
        if 0 <= i < hostport_end:
            hostport_end = i
    hostport, tail = rest[:hostport_end], rest[hostport_end:]
    host, port = _parse_hostport(hostport)
    params_text, _, headers_text = tail.partition("?")
    try:
        params = _parse_uri_params(params_text)
    except HeaderError as exc:
        raise HeaderError(f"Bad URI: {exc}") from None
    headers: dict[str, str] = {}
    if headers_text:
        for pair in headers_text.split("&"):
            name, eq, value = pair.partition("=")
            if not name or not eq:
                raise HeaderError("Bad URI: malformed header")
            headers[name] = value
    return SipUri(scheme, user, password, host, port, params, headers)


def _parse_hostport(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        close = text.find("]")
        host, port_text = text[: close + 1], text[close + 1 :]
        if close < 0:
            raise HeaderError("Bad URI: unterminated IPv6 reference")
        if port_text and port_text[0] != ":":
            raise HeaderError("Bad URI: bad host")
        port_text = port_text[1:] if port_text else ""
        has_port = bool(text[close + 1 :])
    else:
        host, colon, port_text = text.partition(":")
        has_port = bool(colon)
    if _HOST_RE.fullmatch(host) is None:
        raise HeaderError("Bad URI: bad host")
    if not has_port:
        return host, None
    if not port_text.isdigit() or not port_text.isascii() or len(port_text) > 5:
        raise HeaderError("Bad URI: bad port")
    port = int(port_text)
    if port > 65535:
        raise HeaderError("Bad URI: port out of range")
    return host, port


def _parse_uri_params(text: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    if not text:
        return params
    for part in text[1:].split(";"):
        name, eq, value = part.partition("=")
        if not name:
            raise HeaderError("empty parameter")
        params[name.lower()] = value if eq else None
    return params
