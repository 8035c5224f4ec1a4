"""The SIP endpoint as the call executor sees it."""

from __future__ import annotations

from typing import Protocol

from sip import UserAgent


class SipPort(Protocol):
    """The UA core plus a way to flush it."""

    @property
    def ua(self) -> UserAgent: ...

    def transmit(self) -> None:
        """Send what the UA core queued and re-arm its timer."""

    def set_tls_name(self, destination: tuple[str, int], name: str) -> None:
        """Check the TLS certificate of ``destination`` against host ``name``."""
