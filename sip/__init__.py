"""Vaxel's SIP stack: sans-IO messages, transactions, dialogs and UA core, plus its asyncio adapter.

Feed bytes and ``now`` to a ``UserAgent``, send what ``messages_to_send`` returns,
re-arm ``get_timer`` and read ``next_event``; ``SipEndpoint`` does that over
UDP and TCP sockets. Nothing here imports the application (``vaxel``).
"""

from sip.dialog import Dialog
from sip.events import (
    AckReceived,
    ByeReceived,
    CallCancelled,
    DialogEstablished,
    DialogTerminated,
    Event,
    IncomingRequest,
    InDialogRequest,
    ReInvite,
    RequestTimeout,
    ResponseReceived,
    Role,
    TerminationReason,
    TransportError,
)
from sip.guard import GuardPolicy, LineBudget, RateLimit, SourceGuard, TcpPolicy
from sip.headers import Address, HeaderError, Via
from sip.message import Headers, SipMessage, SipRequest, SipResponse
from sip.parser import SipParseError, StreamFramer, parse_message, serialize
from sip.registrar import Registrar
from sip.timers import Timers
from sip.transport import SipEndpoint, TlsSettings
from sip.useragent import UserAgent

from .digest import (
    AuthLockout,
    DigestAuthenticator,
    DigestError,
    Lock,
    build_authorization,
    choose_challenge,
    parse_challenge,
)
from .headers import parse_address
from .registrar import AuthRejection, Binding, RegisterOutcome
from .sdes import MASTER_LENGTH as SRTP_KEY_LENGTH
from .sdes import SrtpKeys
from .sdp import (
    Negotiated,
    NoCommonCodec,
    SdpError,
    SessionDescription,
    make_offer,
    negotiate,
    parse_answer,
    parse_sdp,
)
from .uri import parse_uri

__all__ = [
    "AuthLockout",
    "Lock",
    "RateLimit",
    "DigestAuthenticator",
    "DigestError",
    "build_authorization",
    "choose_challenge",
    "parse_challenge",
    "parse_address",
    "AuthRejection",
    "Binding",
    "RegisterOutcome",
    "Negotiated",
    "NoCommonCodec",
    "SdpError",
    "SessionDescription",
    "make_offer",
    "negotiate",
    "parse_answer",
    "parse_sdp",
    "SRTP_KEY_LENGTH",
    "SrtpKeys",
    "parse_uri",
    "AckReceived",
    "Address",
    "ByeReceived",
    "CallCancelled",
    "Dialog",
    "DialogEstablished",
    "DialogTerminated",
    "Event",
    "GuardPolicy",
    "HeaderError",
    "Headers",
    "InDialogRequest",
    "IncomingRequest",
    "ReInvite",
    "Registrar",
    "RequestTimeout",
    "ResponseReceived",
    "Role",
    "SipEndpoint",
    "LineBudget",
    "TlsSettings",
    "SipMessage",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "SourceGuard",
    "StreamFramer",
    "TcpPolicy",
    "TerminationReason",
    "Timers",
    "TransportError",
    "UserAgent",
    "Via",
    "parse_message",
    "serialize",
]
