"""SIP transactions (RFC 3261 section 17, with the RFC 6026 Accepted states).

Sans-IO: a transaction never touches a socket or a clock. It talks to its
*transaction user* (the UA core, ``sip.useragent``) through the small
``TransactionUser`` protocol: "send this message", "call me back at time t",
"here is a response", "I timed out", "I am finished".

2xx responses to INVITE are not retransmitted here: per RFC 6026 the server
transaction moves to Accepted and the UA core retransmits the 2xx until the ACK
arrives (the ACK for a 2xx is its own transaction-less request).
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable
from typing import Protocol

from sip.headers import HeaderError, Via, find_tag, parse_address
from sip.message import Headers, SipRequest, SipResponse
from sip.timers import TimerEntry, Timers

MAGIC_COOKIE = "z9hG4bK"
RELIABLE_TRANSPORTS = frozenset({"TCP", "TLS", "SCTP", "WS", "WSS"})

Address = tuple[str, int]

REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    420: "Bad Extension",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
}


def reason_phrase(status: int) -> str:
    return REASON_PHRASES.get(status) or REASON_PHRASES.get(status // 100 * 100, "Unknown")


def new_branch() -> str:
    """A fresh RFC 3261 branch (magic cookie + 64 random bits)."""
    return MAGIC_COOKIE + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def is_reliable(transport: str) -> bool:
    return transport.upper() in RELIABLE_TRANSPORTS


def add_tag(address_value: str, tag: str) -> str:
    """Append ``;tag=`` to a From/To value (params after an addr-spec are header params)."""
    return f"{address_value};tag={tag}"


def header_tag(value: str | None) -> str | None:
    """The tag parameter of a From/To value, or None (messages have ``from_tag``/``to_tag``)."""
    if value is None:
        return None
    try:
        return parse_address(value).tag
    except HeaderError:
        return find_tag(value)


def server_key(request: SipRequest, via: Via, method: str) -> Hashable:
    """Server transaction key (RFC 3261 17.2.3): branch + sent-by + ``method``.

    Pass "INVITE" as ``method`` to find the INVITE an ACK or a CANCEL refers to.
    """
    branch = via.branch or ""
    sent_by = f"{via.host.lower()}:{via.port or 0}"
    if branch.startswith(MAGIC_COOKIE):
        return (branch, sent_by, method)
    # RFC 2543 peers: no unique branch, fall back on the request's identity.
    return (
        "rfc2543",
        request.call_id,
        request.from_tag,
        request.cseq.number,
        sent_by,
        branch,
        method,
    )


def client_key(message: SipRequest | SipResponse) -> tuple[str | None, str] | None:
    """Client transaction key (RFC 3261 17.1.3): top Via branch + CSeq method."""
    headers = message.headers
    if "Via" not in headers or "CSeq" not in headers:
        return None
    method = message.cseq.method
    if method == "ACK":
        method = "INVITE"
    return (message.top_via.branch, method)


def build_response(
    request: SipRequest, status: int, reason: str | None = None, *, to_tag: str | None = None
) -> SipResponse:
    """A response per RFC 3261 8.2.6: Via, From, To (+ tag except on 100), Call-ID, CSeq."""
    src = request.headers
    h = Headers()
    for via in src.get_all("Via"):
        h.add("Via", via)
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = src.get(name)
        if value is not None:
            h.add(name, value)
    if status == 100:
        timestamp = src.get("Timestamp")
        if timestamp is not None:
            h.add("Timestamp", timestamp)
    elif to_tag is not None:
        to = src.get("To")
        if to is not None and request.to_tag is None:
            h.set("To", add_tag(to, to_tag))
    return SipResponse(status, reason or reason_phrase(status), h)


def build_ack_for_failure(request: SipRequest, response: SipResponse) -> SipRequest:
    """ACK for a 300-699 response to INVITE (RFC 3261 17.1.1.3): same branch, To from response."""
    src = request.headers
    h = Headers()
    h.add("Via", src.get("Via") or "")
    h.add("Max-Forwards", "70")
    h.add("From", src.get("From") or "")
    h.add("To", response.headers.get("To") or src.get("To") or "")
    h.add("Call-ID", src.get("Call-ID") or "")
    h.add("CSeq", f"{request.cseq.number} ACK")
    for route in src.get_all("Route"):
        h.add("Route", route)
    h.add("Content-Length", "0")
    return SipRequest("ACK", request.uri, h)


def build_cancel(request: SipRequest) -> SipRequest:
    """CANCEL for a pending INVITE (RFC 3261 9.1): same Request-URI, top Via, To, From, CSeq no."""
    src = request.headers
    h = Headers()
    h.add("Via", src.get("Via") or "")
    h.add("Max-Forwards", "70")
    for name in ("From", "To", "Call-ID"):
        h.add(name, src.get(name) or "")
    h.add("CSeq", f"{request.cseq.number} CANCEL")
    for route in src.get_all("Route"):
        h.add("Route", route)
    h.add("Content-Length", "0")
    return SipRequest("CANCEL", request.uri, h)


class TransactionUser(Protocol):
    """What a transaction needs from the UA core."""

    timers: Timers

    def tx_send(
        self, msg: SipRequest | SipResponse, destination: Address, transport: str
    ) -> None: ...

    def tx_schedule(self, when: float, callback: TimerCallback) -> TimerEntry: ...

    def tx_response(self, txn: ClientTransaction, response: SipResponse, now: float) -> None:
        """A response the TU must see (1xx, every 2xx to INVITE, first final otherwise)."""

    def tx_timeout(self, txn: Transaction, now: float) -> None:
        """Timer B/F (client) or timer H (server: no ACK for a failure response)."""

    def tx_terminated(self, txn: Transaction) -> None:
        """The transaction is over: forget it."""


class TimerCallback(Protocol):
    def __call__(self, when: float) -> None: ...


class TransactionStateError(RuntimeError):
    """A response was sent in a state that does not allow it (e.g. a second final)."""


# States (strings keep traces readable).
CALLING = "Calling"
TRYING = "Trying"
PROCEEDING = "Proceeding"
ACCEPTED = "Accepted"
COMPLETED = "Completed"
CONFIRMED = "Confirmed"
TERMINATED = "Terminated"


class Transaction:
    __slots__ = (
        "tu",
        "key",
        "request",
        "peer",
        "transport",
        "reliable",
        "state",
        "handle",
        "_entries",
        "_interval",
    )

    def __init__(
        self, tu: TransactionUser, key: Hashable, request: SipRequest, peer: Address, transport: str
    ) -> None:
        self.tu = tu
        self.key = key
        self.request = request
        self.peer = peer  # destination (client) or where responses go (server)
        self.transport = transport
        self.reliable = is_reliable(transport)
        self.state = ""
        self.handle: str = ""  # id the UA core uses for this transaction
        self._entries: list[TimerEntry] = []
        self._interval = 0.0

    def _at(self, when: float, callback: TimerCallback) -> None:
        self._entries.append(self.tu.tx_schedule(when, callback))

    def _cancel_timers(self) -> None:
        for entry in self._entries:
            entry.cancel()
        self._entries.clear()

    def terminate(self) -> None:
        if self.state == TERMINATED:
            return
        self.state = TERMINATED
        self._cancel_timers()
        self.tu.tx_terminated(self)

    def _terminate_after(self, now: float, delay: float) -> None:
        if delay <= 0:
            self.terminate()
        else:
            self._at(now + delay, lambda _when: self.terminate())

    @property
    def terminated(self) -> bool:
        return self.state == TERMINATED

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request.method} {self.key} {self.state}>"


class ClientTransaction(Transaction):
    __slots__ = ()

    def start(self, now: float) -> None:
        raise NotImplementedError

    def receive_response(self, response: SipResponse, now: float) -> None:
        raise NotImplementedError


class InviteClientTransaction(ClientTransaction):
    """RFC 3261 17.1.1 with RFC 6026's Accepted state (timer M = 64*T1)."""

    __slots__ = ("ack",)

    def start(self, now: float) -> None:
        self.state = CALLING
        self.ack: SipRequest | None = None
        timers = self.tu.timers
        self.tu.tx_send(self.request, self.peer, self.transport)
        if not self.reliable:
            self._interval = timers.a
            self._at(now + timers.a, self._timer_a)
        self._at(now + timers.b, self._timer_b)

    def _timer_a(self, when: float) -> None:
        if self.state != CALLING:
            return
        self.tu.tx_send(self.request, self.peer, self.transport)
        self._interval *= 2  # timer A doubles without cap; B ends it
        self._at(when + self._interval, self._timer_a)

    def _timer_b(self, when: float) -> None:
        if self.state == CALLING:
            self.terminate()
            self.tu.tx_timeout(self, when)

    def receive_response(self, response: SipResponse, now: float) -> None:
        status = response.status
        state = self.state
        if status < 200:
            if state in (CALLING, PROCEEDING):
                if state == CALLING:
                    self._cancel_timers()
                    self.state = PROCEEDING
                self.tu.tx_response(self, response, now)
        elif status < 300:
            if state in (CALLING, PROCEEDING):
                self._cancel_timers()
                self.state = ACCEPTED
                self._terminate_after(now, self.tu.timers.b)  # timer M
            if self.state == ACCEPTED:  # every 2xx (retransmissions too): the TU re-ACKs
                self.tu.tx_response(self, response, now)
        elif state in (CALLING, PROCEEDING):
            self._cancel_timers()
            self.state = COMPLETED
            self.ack = build_ack_for_failure(self.request, response)
            self.tu.tx_send(self.ack, self.peer, self.transport)
            self.tu.tx_response(self, response, now)
            self._terminate_after(now, self.tu.timers.d(self.reliable))
        elif state == COMPLETED and self.ack is not None:
            self.tu.tx_send(self.ack, self.peer, self.transport)  # response retransmitted


class NonInviteClientTransaction(ClientTransaction):
    """RFC 3261 17.1.2: timer E retransmits (capped at T2), F times out, K lingers."""

    __slots__ = ()

    def start(self, now: float) -> None:
        self.state = TRYING
        timers = self.tu.timers
        self.tu.tx_send(self.request, self.peer, self.transport)
        if not self.reliable:
            self._interval = timers.e
            self._at(now + timers.e, self._timer_e)
        self._at(now + timers.f, self._timer_f)

    def _timer_e(self, when: float) -> None:
        if self.state not in (TRYING, PROCEEDING):
            return
        self.tu.tx_send(self.request, self.peer, self.transport)
        timers = self.tu.timers
        self._interval = (
            timers.t2 if self.state == PROCEEDING else timers.next_interval(self._interval)
        )
        self._at(when + self._interval, self._timer_e)

    def _timer_f(self, when: float) -> None:
        if self.state in (TRYING, PROCEEDING):
            self.terminate()
            self.tu.tx_timeout(self, when)

    def receive_response(self, response: SipResponse, now: float) -> None:
        if self.state not in (TRYING, PROCEEDING):
            return  # Completed: retransmitted final responses are absorbed
        if response.status < 200:
            self.state = PROCEEDING
            self.tu.tx_response(self, response, now)
            return
        self._cancel_timers()
        self.state = COMPLETED
        self.tu.tx_response(self, response, now)
        self._terminate_after(now, self.tu.timers.k(self.reliable))


class ServerTransaction(Transaction):
    __slots__ = ("last_response", "local_tag", "cancelled")

    def __init__(
        self, tu: TransactionUser, key: Hashable, request: SipRequest, peer: Address, transport: str
    ) -> None:
        super().__init__(tu, key, request, peer, transport)
        self.state = PROCEEDING if request.method == "INVITE" else TRYING
        self.last_response: SipResponse | None = None
        self.local_tag = new_tag()  # To-tag for every non-100 response of this transaction
        self.cancelled = False

    @property
    def final_sent(self) -> bool:
        return self.state not in (TRYING, PROCEEDING)

    def receive_request(self, now: float) -> None:
        """A retransmission of the request: resend the last response, if any."""
        if self.state in (PROCEEDING, COMPLETED) and self.last_response is not None:
            self.tu.tx_send(self.last_response, self.peer, self.transport)

    def send_response(self, response: SipResponse, now: float) -> None:
        raise NotImplementedError


class InviteServerTransaction(ServerTransaction):
    """RFC 3261 17.2.1 with RFC 6026: 2xx -> Accepted (timer L), failure -> Completed (G, H)."""

    __slots__ = ()

    def send_response(self, response: SipResponse, now: float) -> None:
        if self.state != PROCEEDING:
            raise TransactionStateError(
                f"cannot send {response.status} to INVITE: transaction is {self.state}"
            )
        self.last_response = response
        self.tu.tx_send(response, self.peer, self.transport)
        status = response.status
        if status < 200:
            return
        timers = self.tu.timers
        if status < 300:
            self.state = ACCEPTED
            self._terminate_after(now, timers.h)  # timer L absorbs INVITE retransmissions
            return
        self.state = COMPLETED
        if not self.reliable:
            self._interval = timers.g
            self._at(now + timers.g, self._timer_g)
        self._at(now + timers.h, self._timer_h)

    def _timer_g(self, when: float) -> None:
        if self.state != COMPLETED or self.last_response is None:
            return
        self.tu.tx_send(self.last_response, self.peer, self.transport)
        self._interval = self.tu.timers.next_interval(self._interval)
        self._at(when + self._interval, self._timer_g)

    def _timer_h(self, when: float) -> None:
        if self.state == COMPLETED:
            self.terminate()
            self.tu.tx_timeout(self, when)

    def receive_ack(self, now: float) -> bool:
        """ACK matching this transaction; True if the TU must see it (ACK in Accepted)."""
        if self.state == COMPLETED:
            self._cancel_timers()
            self.state = CONFIRMED
            self._terminate_after(now, self.tu.timers.i(self.reliable))
            return False
        return self.state == ACCEPTED


class NonInviteServerTransaction(ServerTransaction):
    """RFC 3261 17.2.2: Trying absorbs retransmissions, Completed resends the final (timer J)."""

    __slots__ = ()

    def send_response(self, response: SipResponse, now: float) -> None:
        if self.state not in (TRYING, PROCEEDING):
            raise TransactionStateError(
                f"cannot send {response.status} to {self.request.method}: "
                f"transaction is {self.state}"
            )
        self.last_response = response
        self.tu.tx_send(response, self.peer, self.transport)
        if response.status < 200:
            self.state = PROCEEDING
            return
        self.state = COMPLETED
        self._terminate_after(now, self.tu.timers.j(self.reliable))
