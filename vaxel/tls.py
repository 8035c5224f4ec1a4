"""The TLS contexts of SIP over TLS, made from the configured files (docs/security.md).

Read by ``vaxel check-config`` and at start: a missing, unreadable or mismatched file is
a ``TlsFileError`` naming the configuration key, never a traceback.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from config import SipTlsConfig


class TlsFileError(ValueError):
    """A configured TLS file cannot be used; ``problems`` are (key path, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {why}" for key, why in problems))


@dataclass(frozen=True)
class TlsContexts:
    server: ssl.SSLContext  # what phones and trunks connect to
    client: ssl.SSLContext  # what we connect to trunks (and phones' TLS contacts) with


def _path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _readable(key: str, path: Path, marker: bytes, problems: list[tuple[str, str]]) -> bool:
    """The file exists, can be read and has the PEM block it should have."""
    if not path.is_file():
        problems.append((key, f"file not found: {path}"))
        return False
    try:
        text = path.read_bytes()
    except OSError as exc:
        problems.append((key, f"cannot read {path}: {exc.strerror or exc}"))
        return False
    if marker not in text:
        what = "private key" if marker == _KEY else "certificate"
        problems.append((key, f"{path} holds no PEM {what} (-----BEGIN ...{marker.decode()})"))
        return False
    return True


_CERT = b"CERTIFICATE-----"
_KEY = b"PRIVATE KEY-----"


def tls_contexts(tls: SipTlsConfig, base: Path) -> TlsContexts:
    """Both contexts, or ``TlsFileError`` listing every file problem."""
    assert tls.certificate is not None and tls.key is not None  # the schema checks it
    cert, key = _path(base, tls.certificate), _path(base, tls.key)
    ca = _path(base, tls.ca) if tls.ca else None
    problems: list[tuple[str, str]] = []
    cert_ok = _readable("sip.tls.certificate", cert, _CERT, problems)
    key_ok = _readable("sip.tls.key", key, _KEY, problems)
    if ca is not None:
        _readable("sip.tls.ca", ca, _CERT, problems)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_ok and key_ok:
        try:
            server.load_cert_chain(cert, key)
        except ssl.SSLError as exc:
            problems.append(_chain_problem(exc, cert))
        except OSError as exc:  # e.g. an encrypted key: Python asks for a password
            problems.append(("sip.tls.key", f"cannot load {key}: {exc}"))
    client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    client.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca is not None and not problems:
        try:
            client.load_verify_locations(cafile=str(ca))
        except ssl.SSLError as exc:
            problems.append(("sip.tls.ca", f"not PEM CA certificates ({exc.reason or exc})"))
    if not tls.verify_trunks:
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
    if problems:
        raise TlsFileError(problems)
    return TlsContexts(server=server, client=client)


def _chain_problem(exc: ssl.SSLError, cert: Path) -> tuple[str, str]:
    if "KEY_VALUES_MISMATCH" in (exc.reason or str(exc)).upper():
        return ("sip.tls.key", f"does not belong to the certificate in {cert}")
    return ("sip.tls.certificate", f"cannot load the certificate and key: {exc.reason or exc}")
