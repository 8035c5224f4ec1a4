"""SRTP and SRTCP (RFC 3711) for one media leg, keyed by SDES (RFC 4568), with libsrtp.

``pylibsrtp`` (the libsrtp binding aiortc uses) does the cipher and authentication work
in C; this is the transform a leg applies to each datagram right before ``sendto`` and
right after it is received. Keys are never logged: only the suite name and counters are.
"""

from __future__ import annotations

import pylibsrtp

_PROFILES = {
    "AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    "AES_CM_128_HMAC_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
}
SUITES = tuple(_PROFILES)


class SrtpError(ValueError):
    """An SRTP context that cannot be made (unknown suite, wrong key length)."""


class SrtpContext:
    """Protects what the leg sends with ``local_key``, unprotects what it receives with
    ``remote_key``. ``unprotect*`` return None for a packet that fails authentication or
    the replay check (counted in ``rejected`` and ``rejected_rtcp``), which the leg then
    drops. (Some phones send a plain RTCP APP "PING" as a NAT keep-alive: one of those.)"""

    __slots__ = ("suite", "local_key", "remote_key", "_tx", "_rx", "rejected", "rejected_rtcp")

    def __init__(self, suite: str, local_key: bytes, remote_key: bytes) -> None:
        profile = _PROFILES.get(suite)
        if profile is None:
            raise SrtpError(f"SRTP suite {suite!r} not supported: expected one of {SUITES}")
        for which, key in (("local", local_key), ("remote", remote_key)):
            if len(key) != 30:
                raise SrtpError(f"SRTP {which} master key+salt must be 30 bytes, not {len(key)}")
        self.suite = suite
        self.local_key = local_key
        self.remote_key = remote_key
        out = pylibsrtp.Policy(
            key=local_key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile
        )
        into = pylibsrtp.Policy(
            key=remote_key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=profile
        )
        self._tx = pylibsrtp.Session(out)
        self._rx = pylibsrtp.Session(into)
        self.rejected = 0
        self.rejected_rtcp = 0

    def __repr__(self) -> str:  # no keys
        return (
            f"SrtpContext({self.suite}, rejected={self.rejected}, "
            f"rejected_rtcp={self.rejected_rtcp})"
        )

    def same_keys(self, suite: str, local_key: bytes, remote_key: bytes) -> bool:
        return (self.suite, self.local_key, self.remote_key) == (suite, local_key, remote_key)

    def protect(self, packet: bytes) -> bytes:
        return self._tx.protect(packet)

    def protect_rtcp(self, packet: bytes) -> bytes:
        return self._tx.protect_rtcp(packet)

    def unprotect(self, packet: bytes) -> bytes | None:
        try:
            return self._rx.unprotect(packet)
        except pylibsrtp.Error:
            self.rejected += 1
            return None

    def unprotect_rtcp(self, packet: bytes) -> bytes | None:
        try:
            return self._rx.unprotect_rtcp(packet)
        except pylibsrtp.Error:
            self.rejected_rtcp += 1
            return None


__all__ = ["SUITES", "SrtpContext", "SrtpError"]
