"""Sans-IO SIP user-agent core for a back-to-back user agent (RFC 3261 sections 8, 12, 13, 17).

Shape borrowed from aioquic: feed what arrived with ``receive``/``receive_bytes``,
take what to put on the wire from ``messages_to_send``, ask ``get_timer`` for
the next deadline and call ``handle_timer`` when it passes, and read what the
layer above must know from ``next_event`` (the event types are in ``sip.events``,
re-exported here). The core owns no socket and no clock.

The layer above (the call controller) answers requests and starts calls
through string ids:

- ``request_id``: an incoming request waiting for its answer (``respond``);
- ``handle``: an outgoing request (``invite``, ``request``, ``bye``...);
- ``dialog_id``: an established dialog (``bye``, ``reinvite``, ``dialog_request``).

Handled here without asking: 100 Trying to INVITE, OPTIONS (200 with Allow),
CANCEL (200, then 487 to the INVITE), BYE (200), 501/405/481/400 rejections,
ACK for every response to our INVITEs, 2xx retransmission until the ACK
arrives (BYE and ``DialogTerminated`` after 64*T1 without it).

Where in-dialog requests go: for dialogs we answered (UAS), the source address
of the INVITE (symmetric signalling, the caller may be behind NAT); for
dialogs we started (UAC), the first Record-Route hop, else the ``destination``
the INVITE was sent to (outbound-proxy semantics, right for trunks and for
phones reached at their registered source address).
"""

from __future__ import annotations

import itertools
import secrets
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from sip.dialog import Dialog, dialog_id, incoming_dialog_id
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
from sip.guard import SourceGuard
from sip.headers import Address as NameAddr
from sip.headers import HeaderError, Via
from sip.message import Headers, SipRequest, SipResponse
from sip.parser import SipParseError, parse_message
from sip.timers import DEFAULT_TIMERS, TimerEntry, TimerQueue, Timers
from sip.transaction import (
    CALLING,
    PROCEEDING,
    ClientTransaction,
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    ServerTransaction,
    TimerCallback,
    Transaction,
    TransactionStateError,
    build_cancel,
    build_response,
    client_key,
    is_reliable,
    new_branch,
    new_tag,
    server_key,
)

__all__ = [  # the events stay importable from here (moved to sip.events)
    "AckReceived",
    "ByeReceived",
    "CallCancelled",
    "DialogEstablished",
    "DialogTerminated",
    "Event",
    "InDialogRequest",
    "IncomingRequest",
    "KNOWN_METHODS",
    "ReInvite",
    "RequestTimeout",
    "ResponseReceived",
    "Role",
    "TerminationReason",
    "TransportError",
    "UaStats",
    "UserAgent",
]

_check_request: Callable[..., tuple[int, str] | None] | None
_unsupported_options: Callable[[SipRequest, frozenset[str]], list[str]] | None
try:
    from sip.validate import check_request as _check_request
    from sip.validate import unsupported_options as _unsupported_options
except ImportError:  # pragma: no cover - validation is optional
    _check_request = None
    _unsupported_options = None

Address = tuple[str, int]
HeaderList = Iterable[tuple[str, str]]

KNOWN_METHODS = frozenset(
    {
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "REGISTER",
        "INFO",
        "NOTIFY",
        "SUBSCRIBE",
        "MESSAGE",
        "PRACK",
        "UPDATE",
        "REFER",
        "PUBLISH",
    }
)
DEFAULT_ALLOW = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "NOTIFY")


@dataclass(slots=True)
class UaStats:
    """Counters for what the core dropped (for logs and metrics)."""

    parse_errors: int = 0
    dropped: int = 0  # unroutable requests, stray ACKs
    stray_responses: int = 0


# ---------------------------------------------------------------- private state


class _OutgoingInvite:
    """A UAC INVITE (initial or re-INVITE) the layer above may still cancel."""

    __slots__ = ("txn", "dialog_id", "cancel_requested", "cancel_sent", "answered", "acked")

    def __init__(self, txn: InviteClientTransaction, dialog_id: str | None) -> None:
        self.txn = txn
        self.dialog_id = dialog_id  # set for a re-INVITE
        self.cancel_requested = False
        self.cancel_sent = False
        self.answered = False
        self.acked: set[str] = set()


class _PendingAnswer:
    """A 2xx to INVITE retransmitted by the core until the ACK arrives (RFC 3261 13.3.1.4)."""

    __slots__ = ("response", "destination", "transport", "interval", "entries")

    def __init__(self, response: SipResponse, destination: Address, transport: str) -> None:
        self.response = response
        self.destination = destination
        self.transport = transport
        self.interval = 0.0
        self.entries: list[TimerEntry] = []

    def cancel(self) -> None:
        for entry in self.entries:
            entry.cancel()
        self.entries.clear()


class UserAgent:
    """The SIP UA core (both UAS and UAC) of the B2BUA. See the module docstring."""

    def __init__(
        self,
        *,
        local_host: str,
        local_port: int,
        user_agent: str = "Vaxel",
        timers: Timers = DEFAULT_TIMERS,
        allow: tuple[str, ...] = DEFAULT_ALLOW,
        supported: frozenset[str] = frozenset(),
        auto_options: bool = True,
        guard: SourceGuard | None = None,
        tls_port: int | None = None,
    ) -> None:
        """``guard``: per-source limits asked before each message is parsed (sip.guard);
        ``tls_port``: where SIP over TLS listens (Via and Contact of TLS messages)."""
        self.guard = guard
        self.local_host = local_host
        self.local_port = local_port
        self.tls_port = tls_port
        self.user_agent = user_agent
        self.timers = timers
        self.allow = frozenset(m.upper() for m in allow)
        self._allow_value = ", ".join(allow)
        self.supported = supported
        self.auto_options = auto_options
        self.stats = UaStats()
        self._timer_queue = TimerQueue()
        self._outbox: list[tuple[SipRequest | SipResponse, Address, str]] = []
        self._events: deque[Event] = deque()
        self._ids = itertools.count(1)
        self._client: dict[Hashable, ClientTransaction] = {}
        self._server: dict[Hashable, ServerTransaction] = {}
        self._pending_requests: dict[str, ServerTransaction] = {}
        self._invites: dict[str, _OutgoingInvite] = {}
        self._dialogs: dict[str, Dialog] = {}
        self._answers: dict[str, _PendingAnswer] = {}
        # Initial INVITEs the guard counts as early dialogs: request handle -> source
        # address until the final answer; dialog id -> address from a 2xx until the ACK.
        self._early: dict[str, str] = {}
        self._early_answered: dict[str, str] = {}
        # Problems peers caused (source, transport, what), for the adapter's log.
        self.problems: deque[tuple[Address, str, str]] = deque(maxlen=256)

    # ------------------------------------------------------------ sans-IO surface

    def receive_bytes(self, data: bytes, source: Address, transport: str, now: float) -> None:
        """Parse and process one datagram / framed stream message. Never raises on bad input."""
        if not data.strip():
            return  # CRLF keep-alive (RFC 5626)
        if self.guard is not None:
            first = data[:16].lstrip()
            if first.startswith(b"SIP/"):
                method = None
            else:
                method = first.split(b" ", 1)[0].decode("ascii", "replace").upper()
            if self.guard.admit(source[0], method, now) != "accept":
                self.stats.dropped += 1
                return
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            self.reject_malformed(exc, source, transport)
            return
        self.receive(msg, source, transport, now)

    def reject_malformed(self, error: SipParseError, source: Address, transport: str) -> None:
        """Count a message that did not parse; answer it when its request can be routed.

        For adapters whose framing failed before ``receive_bytes`` (a stream's bad
        Content-Length): the answer is queued like any other message.
        """
        self.stats.parse_errors += 1
        self.problems.append((source, transport, f"{error.status} {error.reason}"))
        partial = error.message
        if isinstance(partial, SipRequest) and partial.method != "ACK":
            self._reject_stateless(partial, error.status, error.reason, source, transport)

    def receive(
        self, msg: SipRequest | SipResponse, source: Address, transport: str, now: float
    ) -> None:
        """Process one parsed message. Malformed headers are answered 400 or dropped."""
        transport = transport.upper()
        try:
            if isinstance(msg, SipRequest):
                self._receive_request(msg, source, transport, now)
            else:
                self._receive_response(msg, now)
        except HeaderError as exc:
            self.problems.append((source, transport, str(exc) or "bad header"))
            if isinstance(msg, SipRequest) and msg.method != "ACK":
                self._reject_stateless(msg, 400, str(exc) or "Bad Request", source, transport)
            else:
                self.stats.dropped += 1

    def messages_to_send(self) -> list[tuple[SipRequest | SipResponse, Address, str]]:
        out, self._outbox = self._outbox, []
        return out

    def get_timer(self) -> float | None:
        deadline = self._timer_queue.next_deadline()
        if self.guard is not None:
            other = self.guard.get_timer()
            if other is not None and (deadline is None or other < deadline):
                return other
        return deadline

    def handle_timer(self, now: float) -> None:
        self._timer_queue.run_due(now)
        if self.guard is not None:
            self.guard.handle_timer(now)

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def dialog(self, dialog_id: str) -> Dialog | None:
        """The live dialog with this id (read-only use by the layer above)."""
        return self._dialogs.get(dialog_id)

    @property
    def dialog_count(self) -> int:
        return len(self._dialogs)

    @property
    def transaction_count(self) -> int:
        return len(self._client) + len(self._server)

    # ------------------------------------------------------------ UAS API

    def respond(
        self,
        request_id: str,
        status: int,
        reason: str | None = None,
        *,
        headers: HeaderList = (),
        body: bytes = b"",
        content_type: str | None = None,
        now: float,
    ) -> bool:
        """Answer a pending request (provisional or final).

        A 2xx to INVITE creates the dialog (``DialogEstablished``) and starts 2xx
        retransmission. Returns False when the request is no longer pending (already
        answered, cancelled, or unknown): a normal race, not an error.
        """
        txn = self._pending_requests.get(request_id)
        if txn is None or txn.final_sent:
            return False
        response = self._build_reply(txn, status, reason, headers, body, content_type)
        if 200 <= status < 300 and request_id in self._early:
            # Still early until the ACK: moved before the 2xx ends the transaction.
            self._early_answered[request_id] = self._early.pop(request_id)
        try:
            txn.send_response(response, now)
        except TransactionStateError:
            return False
        if status >= 200:
            self._pending_requests.pop(request_id, None)
            self._early_done(request_id)
        if txn.request.method == "INVITE" and 200 <= status < 300:
            self._on_invite_answered(txn, response, now)
        return True

    # ------------------------------------------------------------ UAC API

    def invite(
        self,
        *,
        target_uri: str,
        destination: Address,
        transport: str,
        from_uri: str,
        from_display: str | None,
        to_uri: str,
        body: bytes,
        content_type: str = "application/sdp",
        headers: HeaderList = (),
        call_id: str | None = None,
        cseq: int = 1,
        from_tag: str | None = None,
        now: float,
    ) -> str:
        """Start an outgoing call; returns its handle (``ResponseReceived`` events carry it).

        ``call_id``/``cseq``/``from_tag`` let the layer above resend after a 401/407.
        """
        request = self._out_of_dialog_request(
            "INVITE",
            target_uri=target_uri,
            transport=transport,
            from_uri=from_uri,
            from_display=from_display,
            to_uri=to_uri,
            body=body,
            content_type=content_type,
            headers=headers,
            call_id=call_id,
            cseq=cseq,
            from_tag=from_tag,
        )
        return self._start_invite(request, destination, transport.upper(), None, now)

    def cancel(self, handle: str, now: float) -> None:
        """Cancel an outgoing INVITE not yet answered (sent once a provisional arrived)."""
        call = self._invites.get(handle)
        if call is None or call.cancel_requested or call.dialog_id is not None:
            return
        if call.txn.state not in (CALLING, PROCEEDING):
            return
        call.cancel_requested = True
        if call.txn.state == PROCEEDING:
            self._send_cancel(call, now)
        # In Calling, RFC 3261 9.1 says wait for a provisional: sent from _on_invite_response.

    def bye(self, dialog_id: str, now: float) -> str | None:
        """Hang up a dialog; returns the BYE's handle, or None if the dialog is already gone."""
        dialog = self._dialogs.pop(dialog_id, None)
        if dialog is None:
            return None
        self._stop_answer(dialog_id)
        return self._send_in_dialog(dialog, "BYE", b"", None, (), now)

    def reinvite(
        self,
        dialog_id: str,
        body: bytes,
        now: float,
        *,
        content_type: str = "application/sdp",
        headers: HeaderList = (),
    ) -> str | None:
        """Send a re-INVITE (hold, media change); returns its handle or None if no such dialog."""
        dialog = self._dialogs.get(dialog_id)
        if dialog is None:
            return None
        via, branch = self._via(dialog.transport)
        request = dialog.new_request(
            "INVITE",
            via=via,
            body=body,
            content_type=content_type,
            headers=tuple(headers),
            user_agent=self.user_agent,
        )
        dialog.pending_invite = True
        return self._start_invite(request, dialog.destination, dialog.transport, dialog_id, now)

    def dialog_request(
        self,
        dialog_id: str,
        method: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: HeaderList = (),
        now: float,
    ) -> str | None:
        """Send a non-INVITE in-dialog request (INFO, NOTIFY...); None if no such dialog."""
        dialog = self._dialogs.get(dialog_id)
        if dialog is None:
            return None
        return self._send_in_dialog(dialog, method.upper(), body, content_type, headers, now)

    def request(
        self,
        method: str,
        *,
        target_uri: str,
        destination: Address,
        transport: str,
        from_uri: str,
        to_uri: str,
        from_display: str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        headers: HeaderList = (),
        call_id: str | None = None,
        cseq: int = 1,
        from_tag: str | None = None,
        now: float,
    ) -> str:
        """Send an out-of-dialog non-INVITE request (REGISTER to a trunk, OPTIONS ping...)."""
        method = method.upper()
        if method in ("INVITE", "ACK", "CANCEL"):
            raise ValueError(f"request(): use invite()/cancel() for {method}")
        req = self._out_of_dialog_request(
            method,
            target_uri=target_uri,
            transport=transport,
            from_uri=from_uri,
            from_display=from_display,
            to_uri=to_uri,
            body=body,
            content_type=content_type,
            headers=headers,
            call_id=call_id,
            cseq=cseq,
            from_tag=from_tag,
        )
        return self._start_non_invite(req, destination, transport.upper(), now)

    def report_transport_error(
        self,
        msg: SipRequest | SipResponse,
        destination: Address,
        transport: str,
        reason: str,
        now: float,
    ) -> None:
        """Called by the adapter when a message could not be sent (connect refused...)."""
        handle: str | None = None
        if isinstance(msg, SipRequest) and msg.method != "ACK":
            try:
                key = client_key(msg)
            except HeaderError:
                key = None
            txn = self._client.get(key) if key is not None else None
            if txn is not None and not txn.terminated:
                handle = txn.handle or None
                txn.terminate()
                self._invites.pop(txn.handle, None)
        self._events.append(TransportError(handle, destination, transport.upper(), reason))

    # ------------------------------------------------------------ TransactionUser

    def tx_send(self, msg: SipRequest | SipResponse, destination: Address, transport: str) -> None:
        self._outbox.append((msg, destination, transport))

    def tx_schedule(self, when: float, callback: TimerCallback) -> TimerEntry:
        return self._timer_queue.schedule(when, callback)

    def tx_response(self, txn: ClientTransaction, response: SipResponse, now: float) -> None:
        if isinstance(txn, InviteClientTransaction):
            self._on_invite_response(txn, response, now)
            return
        if not txn.handle:
            return  # our CANCEL: its answer changes nothing, the INVITE's 487 does
        self._events.append(ResponseReceived(txn.handle, response))
        if response.status in (408, 481) and txn.request.method != "BYE":
            reason = (
                TerminationReason.REQUEST_TIMED_OUT
                if response.status == 408
                else TerminationReason.REQUEST_NO_DIALOG
            )
            self._dialog_failed(_own_dialog_id(txn.request), reason, now)

    def tx_timeout(self, txn: Transaction, now: float) -> None:
        if not isinstance(txn, ClientTransaction) or not txn.handle:
            return  # server timer H: the failure response was final anyway
        self._events.append(RequestTimeout(txn.handle))
        self._invites.pop(txn.handle, None)
        if txn.request.method != "BYE":
            self._dialog_failed(_own_dialog_id(txn.request), TerminationReason.REQUEST_TIMEOUT, now)

    def tx_terminated(self, txn: Transaction) -> None:
        if isinstance(txn, ServerTransaction):
            if self._server.get(txn.key) is txn:
                del self._server[txn.key]
            self._pending_requests.pop(txn.handle, None)
            self._early_done(txn.handle)
        else:
            if self._client.get(txn.key) is txn:
                del self._client[txn.key]
            call = self._invites.get(txn.handle)
            if call is not None and call.txn is txn:
                del self._invites[txn.handle]

    # ------------------------------------------------------------ incoming requests

    def _receive_request(
        self, req: SipRequest, source: Address, transport: str, now: float
    ) -> None:
        try:
            via = self._stamp_via(req, req.top_via, source)
        except HeaderError:
            self.stats.dropped += 1  # no usable Via: nowhere to send a response
            return
        method = req.method
        if method == "ACK":
            self._receive_ack(req, via, now)
            return
        key = server_key(req, via, method)
        txn = self._server.get(key)
        if txn is not None:
            txn.receive_request(now)  # retransmission: absorbed, last response resent
            return
        txn = self._new_server_txn(req, key, source, transport)
        if method == "INVITE":
            self._reply(txn, 100, now=now)
        try:
            self._dispatch_new_request(txn, via, source, transport, now)
        except HeaderError as exc:
            # Answer inside the transaction so it ends and retransmissions get the same 400.
            if not txn.final_sent:
                self._reply(txn, 400, str(exc) or "Bad Request", now=now)

    def _dispatch_new_request(
        self, txn: ServerTransaction, via: Via, source: Address, transport: str, now: float
    ) -> None:
        req = txn.request
        method = req.method
        if not self._validate(txn, now):
            return
        if method == "CANCEL":
            self._receive_cancel(txn, via, now)
            return
        did = incoming_dialog_id(req)
        if did is not None:
            self._receive_in_dialog(txn, did, now)
            return
        if method == "OPTIONS" and self.auto_options:
            self._reply(txn, 200, headers=(("Accept", "application/sdp"),), now=now)
            return
        if method == "BYE":  # out of dialog by definition
            self._reply(txn, 481, now=now)
            return
        if method == "INVITE" and self.guard is not None:
            if not self.guard.invite_started(source[0], now):
                limit = self.guard.policy.max_early_dialogs
                self._reply(
                    txn,
                    503,
                    f"Over {limit} Unanswered Calls From Your Address",
                    headers=(("Retry-After", "10"),),
                    now=now,
                )
                return
            self._early[txn.handle] = source[0]
        self._events.append(IncomingRequest(txn.handle, req, source, transport))

    def _validate(self, txn: ServerTransaction, now: float) -> bool:
        req = txn.request
        method = req.method
        if _check_request is not None:
            problem = _check_request(req, supported=self.supported, methods=KNOWN_METHODS)
            if problem is not None:
                extra: list[tuple[str, str]] = []
                if problem[0] == 420 and _unsupported_options is not None:
                    extra.append(
                        ("Unsupported", ", ".join(_unsupported_options(req, self.supported)))
                    )
                if problem[0] == 405:
                    extra.append(("Allow", self._allow_value))
                self._reply(txn, problem[0], problem[1], headers=extra, now=now)
                return False
        if method not in KNOWN_METHODS:
            self._reply(txn, 501, now=now)
            return False
        if method not in self.allow:
            self._reply(txn, 405, headers=(("Allow", self._allow_value),), now=now)
            return False
        return True

    def _receive_ack(self, req: SipRequest, via: Via, now: float) -> None:
        txn = self._server.get(server_key(req, via, "INVITE"))
        if isinstance(txn, InviteServerTransaction) and not txn.receive_ack(now):
            return  # ACK for a failure response, absorbed by the transaction
        did = incoming_dialog_id(req)
        if did is None or did not in self._dialogs:
            self.stats.dropped += 1
            return
        answer = self._answers.pop(did, None)
        if answer is None:
            return  # ACK retransmission
        answer.cancel()
        self._acked(did)
        self._events.append(AckReceived(did, req.body))

    def _receive_cancel(self, txn: ServerTransaction, via: Via, now: float) -> None:
        invite = self._server.get(server_key(txn.request, via, "INVITE"))
        if not isinstance(invite, InviteServerTransaction):
            self._reply(txn, 481, now=now)
            return
        self._reply(txn, 200, now=now)
        if invite.final_sent:
            return
        invite.cancelled = True
        self._pending_requests.pop(invite.handle, None)
        self._reply(invite, 487, now=now)
        self._events.append(CallCancelled(invite.handle))

    def _receive_in_dialog(self, txn: ServerTransaction, did: str, now: float) -> None:
        req = txn.request
        dialog = self._dialogs.get(did)
        if dialog is None:
            self._reply(txn, 481, now=now)
            return
        if not dialog.accept_remote_cseq(req.cseq.number):
            self._reply(txn, 500, "CSeq Out of Order", now=now)
            return
        method = req.method
        if method == "BYE":
            self._reply(txn, 200, now=now)
            del self._dialogs[did]
            self._stop_answer(did)
            self._events.append(ByeReceived(did))
        elif method == "INVITE":
            if dialog.pending_invite:
                self._reply(txn, 491, now=now)  # glare (RFC 3261 14.2)
                return
            self._events.append(ReInvite(did, txn.handle, req))
        elif method == "OPTIONS" and self.auto_options:
            self._reply(txn, 200, headers=(("Accept", "application/sdp"),), now=now)
        else:
            self._events.append(InDialogRequest(did, txn.handle, req))

    def _on_invite_answered(
        self, txn: ServerTransaction, response: SipResponse, now: float
    ) -> None:
        req = txn.request
        did = incoming_dialog_id(req)
        if did is None:  # initial INVITE: the 2xx creates the dialog
            dialog = Dialog.from_uas(
                req,
                response,
                source=txn.peer,
                transport=txn.transport,
                local_contact=self._contact(txn.transport),
            )
            self._dialogs[dialog.id] = dialog
            did = dialog.id
            early = self._early_answered.pop(txn.handle, None)
            if early is not None:
                self._early_answered[did] = early
            self._events.append(DialogEstablished(did, Role.UAS, txn.handle))
        else:
            found = self._dialogs.get(did)
            if found is None:
                return
            dialog = found
            dialog.refresh_target(req)
        answer = _PendingAnswer(response, txn.peer, txn.transport)
        self._stop_answer(did)
        self._answers[did] = answer
        timers = self.timers
        if not is_reliable(txn.transport):
            answer.interval = timers.t1
            answer.entries.append(
                self._timer_queue.schedule(now + timers.t1, self._answer_retransmitter(did))
            )
        answer.entries.append(self._timer_queue.schedule(now + timers.h, self._answer_give_up(did)))

    def _answer_retransmitter(self, did: str) -> TimerCallback:
        def fire(when: float) -> None:
            answer = self._answers.get(did)
            if answer is None:
                return
            self._outbox.append((answer.response, answer.destination, answer.transport))
            answer.interval = self.timers.next_interval(answer.interval)
            answer.entries.append(self._timer_queue.schedule(when + answer.interval, fire))

        return fire

    def _answer_give_up(self, did: str) -> TimerCallback:
        def fire(when: float) -> None:
            answer = self._answers.pop(did, None)
            self._acked(did)
            if answer is None:
                return
            answer.cancel()
            if did in self._dialogs:
                self.bye(did, when)
                self._events.append(DialogTerminated(did, TerminationReason.NO_ACK))

        return fire

    def _stop_answer(self, did: str) -> None:
        answer = self._answers.pop(did, None)
        if answer is not None:
            answer.cancel()
            self._acked(did)

    def _early_done(self, handle: str) -> None:
        """The guard's early dialog for this INVITE ended with a final non-2xx answer."""
        address = self._early.pop(handle, None)
        if address is not None and self.guard is not None:
            self.guard.invite_ended(address)

    def _acked(self, did: str) -> None:
        """The guard's early dialog answered 2xx ended (ACK, give-up or BYE)."""
        address = self._early_answered.pop(did, None)
        if address is not None and self.guard is not None:
            self.guard.invite_ended(address)

    # ------------------------------------------------------------ incoming responses

    def _receive_response(self, resp: SipResponse, now: float) -> None:
        key = client_key(resp)
        txn = self._client.get(key) if key is not None else None
        if txn is not None:
            txn.receive_response(resp, now)
            return
        # A 2xx retransmission after the INVITE transaction ended: re-ACK it.
        if 200 <= resp.status < 300 and key is not None and key[1] == "INVITE":
            did = _own_dialog_id_of_response(resp)
            dialog = self._dialogs.get(did)
            if dialog is not None and dialog.ack is not None:
                self._outbox.append((dialog.ack, dialog.destination, dialog.transport))
                return
        self.stats.stray_responses += 1

    def _on_invite_response(
        self, txn: InviteClientTransaction, resp: SipResponse, now: float
    ) -> None:
        handle = txn.handle
        call = self._invites.get(handle)
        status = resp.status
        if status < 200:
            self._events.append(ResponseReceived(handle, resp))
            if call is not None and call.cancel_requested and not call.cancel_sent:
                self._send_cancel(call, now)
            return
        if status >= 300:
            self._events.append(ResponseReceived(handle, resp))
            if call is not None and call.dialog_id is not None:
                dialog = self._dialogs.get(call.dialog_id)
                if dialog is not None:
                    dialog.pending_invite = False
                if status in (408, 481):
                    reason = (
                        TerminationReason.REINVITE_TIMED_OUT
                        if status == 408
                        else TerminationReason.REINVITE_NO_DIALOG
                    )
                    self._dialog_failed(call.dialog_id, reason, now)
            return
        # 2xx: ACK it (every copy), create or refresh the dialog.
        did = _own_dialog_id_of_response(resp)
        if call is not None and did in call.acked:
            dialog = self._dialogs.get(did)
            if dialog is not None and dialog.ack is not None:
                self._outbox.append((dialog.ack, dialog.destination, dialog.transport))
            return
        if call is None:
            call = _OutgoingInvite(txn, None)
        call.acked.add(did)
        dialog = self._dialogs.get(did)
        first_answer = not call.answered
        call.answered = True
        if dialog is None:
            dialog = Dialog.from_uac(
                txn.request,
                resp,
                destination=txn.peer,
                transport=txn.transport,
                # The Contact the INVITE gave (the application's, if it chose one).
                local_contact=txn.request.headers.get("Contact") or self._contact(txn.transport),
            )
            self._dialogs[did] = dialog
            new_dialog = True
        else:
            dialog.refresh_target(resp)
            dialog.pending_invite = False
            new_dialog = False
        via, _ = self._via(dialog.transport)
        dialog.ack = dialog.new_request("ACK", via=via, cseq=txn.request.cseq.number)
        self._outbox.append((dialog.ack, dialog.destination, dialog.transport))
        self._events.append(ResponseReceived(handle, resp, did))
        if not new_dialog:
            return
        if call.cancel_requested or not first_answer:
            # Answered despite our CANCEL, or a second fork: ACKed above, now hang it up.
            self.bye(did, now)
            reason = (
                TerminationReason.ANSWERED_AFTER_CANCEL
                if call.cancel_requested
                else TerminationReason.EXTRA_FORKED_ANSWER
            )
            self._events.append(DialogTerminated(did, reason))
            return
        self._events.append(DialogEstablished(did, Role.UAC, handle))

    # ------------------------------------------------------------ helpers

    def _dialog_failed(self, did: str | None, reason: TerminationReason, now: float) -> None:
        if did is None or did not in self._dialogs:
            return
        self.bye(did, now)
        self._events.append(DialogTerminated(did, reason))

    def _start_invite(
        self,
        request: SipRequest,
        destination: Address,
        transport: str,
        dialog_id_: str | None,
        now: float,
    ) -> str:
        key = client_key(request)
        txn = InviteClientTransaction(self, key, request, destination, transport)
        txn.handle = f"c{next(self._ids)}"
        self._client[key] = txn
        self._invites[txn.handle] = _OutgoingInvite(txn, dialog_id_)
        txn.start(now)
        return txn.handle

    def _start_non_invite(
        self, request: SipRequest, destination: Address, transport: str, now: float
    ) -> str:
        key = client_key(request)
        txn = NonInviteClientTransaction(self, key, request, destination, transport)
        txn.handle = f"c{next(self._ids)}"
        self._client[key] = txn
        txn.start(now)
        return txn.handle

    def _send_in_dialog(
        self,
        dialog: Dialog,
        method: str,
        body: bytes,
        content_type: str | None,
        headers: HeaderList,
        now: float,
    ) -> str:
        via, _ = self._via(dialog.transport)
        request = dialog.new_request(
            method,
            via=via,
            body=body,
            content_type=content_type,
            headers=tuple(headers),
            user_agent=self.user_agent,
        )
        return self._start_non_invite(request, dialog.destination, dialog.transport, now)

    def _send_cancel(self, call: _OutgoingInvite, now: float) -> None:
        call.cancel_sent = True
        invite = call.txn
        cancel = build_cancel(invite.request)
        key = client_key(cancel)
        txn = NonInviteClientTransaction(self, key, cancel, invite.peer, invite.transport)
        self._client[key] = txn
        txn.start(now)

    def _new_server_txn(
        self, req: SipRequest, key: Hashable, source: Address, transport: str
    ) -> ServerTransaction:
        cls = InviteServerTransaction if req.method == "INVITE" else NonInviteServerTransaction
        txn = cls(self, key, req, source, transport)
        txn.handle = f"s{next(self._ids)}"
        self._server[key] = txn
        self._pending_requests[txn.handle] = txn
        return txn

    def _reply(
        self,
        txn: ServerTransaction,
        status: int,
        reason: str | None = None,
        *,
        headers: HeaderList = (),
        now: float,
    ) -> None:
        response = self._build_reply(txn, status, reason, headers, b"", None)
        if status >= 200:
            self._pending_requests.pop(txn.handle, None)
        txn.send_response(response, now)
        if status >= 200:
            self._early_done(txn.handle)

    def _build_reply(
        self,
        txn: ServerTransaction,
        status: int,
        reason: str | None,
        headers: HeaderList,
        body: bytes,
        content_type: str | None,
    ) -> SipResponse:
        req = txn.request
        response = build_response(req, status, reason, to_tag=txn.local_tag)
        h = response.headers
        if req.method == "INVITE" and 100 < status < 300:
            for rr in req.headers.get_all("Record-Route"):
                h.add("Record-Route", rr)
            # One Contact (RFC 3261 12.1.1), for the transport the request came over; the
            # application's own, if it gives one, replaces it.
            if not any(n.lower() in ("contact", "m") for n, _ in headers):
                h.add("Contact", self._contact(txn.transport))
        wants_allow = status == 405 or (req.method in ("OPTIONS", "INVITE") and 200 <= status < 300)
        if wants_allow and not any(n.lower() == "allow" for n, _ in headers):
            h.add("Allow", self._allow_value)
        h.add("Server", self.user_agent)
        for name, value in headers:
            h.add(name, value)
        if body:
            response.body = body
            if content_type:
                h.set("Content-Type", content_type)
        return response

    def _reject_stateless(
        self, req: SipRequest, status: int, reason: str, source: Address, transport: str
    ) -> None:
        """400-class answer to a request we will not hold a transaction for."""
        try:
            if "Via" in req.headers:
                self._stamp_via(req, req.top_via, source)
            response = build_response(req, status, reason, to_tag=new_tag())
        except HeaderError:
            self.stats.dropped += 1
            return
        response.headers.add("Server", self.user_agent)
        self._outbox.append((response, source, transport.upper()))

    @staticmethod
    def _stamp_via(req: SipRequest, via: Via, source: Address) -> Via:
        """RFC 3261 18.2.1 received + RFC 3581 rport on the top Via (responses copy it)."""
        host, port = source
        params = via.params
        if via.host.strip("[]") != host:
            params = {**params, "received": host}
        if "rport" in params:
            params = {**params, "rport": str(port)}
        if params is via.params:
            return via
        stamped = Via(via.transport, via.host, via.port, params)  # the typed one is shared
        req.set_top_via(stamped)
        return stamped

    def _via(self, transport: str) -> tuple[str, str]:
        branch = new_branch()
        host = self.local_host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        port = self._port(transport)
        return f"SIP/2.0/{transport.upper()} {host}:{port};branch={branch};rport", branch

    def _port(self, transport: str) -> int:
        """The local port of a transport: TLS listens on its own (RFC 3261 26.2: 5061)."""
        if transport.upper() == "TLS" and self.tls_port is not None:
            return self.tls_port
        return self.local_port

    def _contact(self, transport: str) -> str:
        host = self.local_host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        suffix = "" if transport.upper() == "UDP" else f";transport={transport.lower()}"
        return f"<sip:{host}:{self._port(transport)}{suffix}>"

    def _out_of_dialog_request(
        self,
        method: str,
        *,
        target_uri: str,
        transport: str,
        from_uri: str,
        from_display: str | None,
        to_uri: str,
        body: bytes,
        content_type: str | None,
        headers: HeaderList,
        call_id: str | None,
        cseq: int,
        from_tag: str | None,
    ) -> SipRequest:
        via, _ = self._via(transport)
        h = Headers()
        h.add("Via", via)
        h.add("Max-Forwards", "70")
        h.add("From", str(NameAddr(from_display, from_uri, {"tag": from_tag or new_tag()})))
        h.add("To", str(NameAddr(None, to_uri, {})))
        h.add("Call-ID", call_id or f"{secrets.token_hex(12)}@{self.local_host}")
        h.add("CSeq", f"{cseq} {method}")
        # One Contact (RFC 3261 8.1.1.8; a REGISTER's would be a second binding); the
        # application's own, if it gives one, replaces the UA's.
        own_contact = any(n.lower() in ("contact", "m") for n, _ in headers)
        if method in ("INVITE", "REGISTER", "SUBSCRIBE", "REFER") and not own_contact:
            h.add("Contact", self._contact(transport))
        if method == "INVITE":
            h.add("Allow", self._allow_value)
        h.add("User-Agent", self.user_agent)
        for name, value in headers:
            h.add(name, value)
        if body and content_type:
            h.set("Content-Type", content_type)
        return SipRequest(method, target_uri, h, body)


def _own_dialog_id(request: SipRequest) -> str | None:
    """Dialog id of a request *we* sent in a dialog (From tag = ours, To tag = theirs)."""
    remote = request.to_tag
    if not remote:
        return None
    return dialog_id(request.call_id or "", request.from_tag or "", remote)


def _own_dialog_id_of_response(resp: SipResponse) -> str:
    """Dialog id a response to our request belongs to (From tag ours, To tag theirs)."""
    return dialog_id(resp.call_id or "", resp.from_tag or "", resp.to_tag or "")
