"""What the UA core tells the layer above (``UserAgent.next_event``): small frozen dataclasses.

The ids they carry are the ones the layer above passes back: ``request_id`` to
``respond``, ``handle`` for requests it sent, ``dialog_id`` for dialogs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sip.message import SipRequest, SipResponse

__all__ = [
    "AckReceived",
    "ByeReceived",
    "CallCancelled",
    "DialogEstablished",
    "DialogTerminated",
    "Event",
    "InDialogRequest",
    "IncomingRequest",
    "ReInvite",
    "RequestTimeout",
    "ResponseReceived",
    "Role",
    "TerminationReason",
    "TransportError",
]

Address = tuple[str, int]


class Role(StrEnum):
    """Which side of a dialog this UA is (RFC 3261 12.1): it sent the INVITE or answered it."""

    UAC = "uac"
    UAS = "uas"


class TerminationReason(StrEnum):
    """Why the core ended a dialog itself (``DialogTerminated``); values are log-ready text."""

    NO_ACK = "no ACK received"  # 2xx retransmitted for 64*T1 without an ACK
    ANSWERED_AFTER_CANCEL = "answered after CANCEL"  # ACKed, then hung up
    EXTRA_FORKED_ANSWER = "extra forked answer"  # a second 2xx fork: ACKed, then hung up
    REINVITE_TIMED_OUT = "re-INVITE answered 408"
    REINVITE_NO_DIALOG = "re-INVITE answered 481"
    REQUEST_TIMED_OUT = "408"  # another in-dialog request answered 408 (RFC 3261 12.2.1.2)
    REQUEST_NO_DIALOG = "481"  # ... answered 481: the peer forgot the dialog
    REQUEST_TIMEOUT = "request timeout"  # no response at all to an in-dialog request


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """A new out-of-dialog request (INVITE, REGISTER, MESSAGE...): answer it with ``respond``."""

    request_id: str
    request: SipRequest
    source: Address
    transport: str


@dataclass(frozen=True, slots=True)
class CallCancelled:
    """The caller cancelled an unanswered INVITE; the core already sent 200 (CANCEL) and 487."""

    request_id: str


@dataclass(frozen=True, slots=True)
class DialogEstablished:
    """A dialog exists: ``role`` UAS (we sent 2xx to ``handle``, a request id) or UAC."""

    dialog_id: str
    role: Role
    handle: str


@dataclass(frozen=True, slots=True)
class AckReceived:
    """The ACK for our 2xx arrived (``body`` holds the SDP answer for late offers)."""

    dialog_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class ReInvite:
    """The peer sent a re-INVITE in an established dialog; answer it with ``respond``."""

    dialog_id: str
    request_id: str
    request: SipRequest


@dataclass(frozen=True, slots=True)
class InDialogRequest:
    """Another in-dialog request (INFO, NOTIFY, UPDATE, REFER...); answer it with ``respond``."""

    dialog_id: str
    request_id: str
    request: SipRequest


@dataclass(frozen=True, slots=True)
class ByeReceived:
    """The peer hung up; the core answered 200 and forgot the dialog."""

    dialog_id: str


@dataclass(frozen=True, slots=True)
class DialogTerminated:
    """A dialog ended for a reason other than a BYE from the peer (no ACK, 481, timeout...)."""

    dialog_id: str
    reason: TerminationReason


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response to one of our requests; ``dialog_id`` is set for a 2xx that made a dialog."""

    handle: str
    response: SipResponse
    dialog_id: str | None = None


@dataclass(frozen=True, slots=True)
class RequestTimeout:
    """No final response to our request (timer B or F)."""

    handle: str


@dataclass(frozen=True, slots=True)
class TransportError:
    """The adapter could not deliver a message; ``handle`` is set when it was our request."""

    handle: str | None
    destination: Address
    transport: str
    reason: str


Event = (
    IncomingRequest
    | CallCancelled
    | DialogEstablished
    | AckReceived
    | ReInvite
    | InDialogRequest
    | ByeReceived
    | DialogTerminated
    | ResponseReceived
    | RequestTimeout
    | TransportError
)
