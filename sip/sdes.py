"""SDP security descriptions for SRTP (SDES, RFC 4568): the ``a=crypto`` attribute.

Pure data: which offered crypto line we take, and the line we answer with (same tag
and suite, our own key). Only the AES counter-mode suites with HMAC-SHA1 (RFC 4568
section 6.2) are taken, with no MKI and no session parameters; a line we cannot honour
is skipped, as the RFC asks, and another may be taken. The keys are bytes that never
appear in a ``repr`` (they must not reach a log).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

CRYPTO = "crypto"
# Suite name -> the master key + salt length (16 + 14 bytes for AES-128 counter mode).
SUITES = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30}
MASTER_LENGTH = 30


@dataclass(frozen=True)
class CryptoOffer:
    """One offered ``a=crypto`` line we can use."""

    tag: int
    suite: str
    key: bytes = field(repr=False)  # master key || master salt


@dataclass(frozen=True)
class SrtpKeys:
    """What both sides agreed: the suite, our key (we protect with it) and theirs (we
    unprotect with it)."""

    suite: str
    local_key: bytes = field(repr=False)
    remote_key: bytes = field(repr=False)


def parse_crypto(value: str) -> CryptoOffer | None:
    """``1 AES_CM_128_HMAC_SHA1_80 inline:KEY[|lifetime][|MKI:len]`` -> the offer, or None
    for a line we cannot honour (unknown suite, MKI, session parameters, bad key)."""
    parts = value.split()
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in SUITES:
        return None  # a fourth part is a session parameter (KDR, UNENCRYPTED_SRTP, ...)
    method, _, params = parts[2].partition(":")
    if method != "inline" or ";" in params:  # several keys: one per line is what we take
        return None
    key_text, *extra = params.split("|")
    for item in extra:
        if ":" in item:
            return None  # an MKI: libsrtp here runs without them
    try:
        key = base64.b64decode(key_text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(key) != SUITES[parts[1]]:
        return None
    return CryptoOffer(int(parts[0]), parts[1], key)


def choose_crypto(attributes: list[tuple[str, str | None]]) -> CryptoOffer | None:
    """The first usable offered crypto line (the offerer lists its preference first)."""
    for name, value in attributes:
        if name == CRYPTO and value is not None:
            offer = parse_crypto(value)
            if offer is not None:
                return offer
    return None


def offers_crypto(attributes: list[tuple[str, str | None]]) -> bool:
    return any(name == CRYPTO for name, _ in attributes)


def crypto_line(tag: int, suite: str, key: bytes) -> str:
    """The value of our ``a=crypto`` attribute."""
    return f"{tag} {suite} inline:{base64.b64encode(key).decode('ascii')}"


__all__ = [
    "CRYPTO",
    "MASTER_LENGTH",
    "SUITES",
    "CryptoOffer",
    "SrtpKeys",
    "choose_crypto",
    "crypto_line",
    "offers_crypto",
    "parse_crypto",
]
