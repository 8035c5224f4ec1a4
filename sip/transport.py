"""asyncio adapters for the sans-IO UA core: one UDP socket and one TCP listener per endpoint.

This is the only module of ``sip/`` that touches sockets and the clock. It
feeds received bytes to ``UserAgent.receive_bytes``, writes
``messages_to_send()`` with ``serialize``, re-arms one ``loop.call_at`` from
``get_timer()`` (deadlines are ``loop.time()`` values) and hands events, in
order, to the ``on_event`` coroutine supplied by the caller.

After calling UA methods directly (``endpoint.ua.invite(...)``), call
``endpoint.transmit()`` so the resulting messages leave and the timer is re-armed.

Under attack (docs/security.md): a ``SourceGuard`` given to the UA decides per message
(bans and limits), a ``TcpGate`` decides which TCP connections open and when they
close (caps, idle and read timeouts). TCP connections are accepted here, not by
``loop.create_server``, so that running out of file descriptors refuses connections
(one spare descriptor is kept to accept and close them) with one log line a minute
instead of a traceback per attempt. Problems peers cause are one warning line each
within a budget, then one summary line per minute.

SIP over TLS (RFC 3261 section 26) is a second listener with a ``TlsSettings``: the same
accepting, caps and timeouts as TCP (one ``TcpGate`` counts both), the handshake bounded
by its own timeout, a failed handshake one warning line. Connections are kept per
transport and peer address, so a response goes back on the connection its request came
on, and requests to a TLS destination open (or reuse) a TLS connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sip.guard import Banned, LineBudget, SourceGuard, TcpGate, TcpPolicy
from sip.message import SipRequest, SipResponse
from sip.parser import SipParseError, StreamFramer, serialize
from sip.useragent import Event, UserAgent

log = logging.getLogger(__name__)

Address = tuple[str, int]
EventHandler = Callable[[Event], Awaitable[None]]
STREAMS = ("TCP", "TLS")


@dataclass(frozen=True)
class TlsSettings:
    """SIP over TLS: ``server`` accepts phones and trunks on ``port`` (0: a free one);
    ``client`` opens connections to TLS destinations (trunks)."""

    server: ssl.SSLContext
    client: ssl.SSLContext
    port: int = 5061
    handshake_timeout: float = 10.0


@dataclass
class _Listener:
    sock: socket.socket
    transport: str  # "TCP" or "TLS"
    ssl: ssl.SSLContext | None


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.endpoint._received(data, (addr[0], addr[1]), "UDP")

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable and the like
        log.debug("sip udp: %s", exc)


_conn_ids = itertools.count(1)
_OUT_OF_FDS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class _TcpConnection(asyncio.Protocol):
    """One TCP or TLS connection (accepted or opened by us), keyed by transport and the
    peer's address."""

    def __init__(self, endpoint: SipEndpoint, conn_id: int = 0, name: str = "TCP") -> None:
        self.endpoint = endpoint
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)
        self.conn_id = conn_id  # non-zero: accepted, watched by the endpoint's TcpGate
        self.name = name  # the SIP transport: "TCP" or "TLS"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = (peer[0], peer[1])
        self.endpoint._connections[(self.name, self.peer)] = self

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except SipParseError as exc:
            # A stream cannot resynchronise after a framing error: answer the request if
            # it can be routed (written before close() flushes), then drop the connection.
            self.endpoint._problem(self.peer, self.name, f"{exc.status} {exc.reason}, closing")
            self.endpoint._rejected(exc, self.peer, self.name)
            if self.transport is not None:
                self.transport.close()
            return
        if self.conn_id:
            self.endpoint._gate.activity(
                self.conn_id, self.endpoint.now(), partial=self.framer.buffered > 0
            )
        for frame in frames:
            self.endpoint._received(frame, self.peer, self.name)

    def connection_lost(self, exc: Exception | None) -> None:
        key = (self.name, self.peer)
        if self.endpoint._connections.get(key) is self:
            del self.endpoint._connections[key]
        if self.conn_id:
            self.endpoint._gate.closed(self.conn_id)
            self.endpoint._accepted.pop(self.conn_id, None)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class SipEndpoint:
    """A UserAgent bound to UDP and TCP on one host:port, driven by the asyncio loop."""

    def __init__(
        self,
        on_event: EventHandler,
        *,
        guard: SourceGuard | None = None,
        tcp: TcpPolicy | None = None,
        tls: TlsSettings | None = None,
        **ua_options: Any,
    ) -> None:
        """``ua_options`` go to ``UserAgent`` (user_agent, timers, allow, supported...);
        ``guard``: per-source limits and bans; ``tcp``: connection caps and timeouts (for
        TLS too); ``tls``: listen for SIP over TLS as well."""
        self._on_event = on_event
        self._ua_options = ua_options
        self.guard = guard
        self._gate = TcpGate(tcp, guard)
        self._accepted: dict[int, _TcpConnection] = {}
        self._tls = tls
        self._listeners: list[_Listener] = []
        self.tls_address: Address | None = None
        # Host names to check TLS certificates against, per destination (default: its IP).
        self._tls_names: dict[Address, str] = {}
        self._spare_fd: int | None = None
        self._sweep: asyncio.TimerHandle | None = None
        self._problems = LineBudget(lines=20, interval=60.0)
        self._refusals = LineBudget(lines=1, interval=60.0)
        self._summary: asyncio.TimerHandle | None = None
        self.refused_connections = 0
        self.tls_handshake_failures = 0
        self._ua: UserAgent | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._connections: dict[tuple[str, Address], _TcpConnection] = {}
        self._connecting: dict[
            tuple[str, Address], list[tuple[SipRequest | SipResponse, bytes]]
        ] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.address: Address = ("", 0)

    @property
    def ua(self) -> UserAgent:
        if self._ua is None:
            raise RuntimeError("SipEndpoint: call start() first")
        return self._ua

    def now(self) -> float:
        """The clock the UA core runs on (pass it as ``now`` to UA methods)."""
        assert self._loop is not None
        return self._loop.time()

    async def start(self, host: str, port: int) -> Address:
        """Bind UDP and TCP on host:port (port 0: pick one free for both); returns the address."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        for _attempt in range(20):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(host, port)
            )
            bound = udp.get_extra_info("sockname")[1]
            try:
                self._listen(host, bound, "TCP", None)
            except OSError:
                udp.close()
                if port:
                    raise
                continue  # the UDP port's TCP twin is taken: try another ephemeral port
            self._udp = udp
            break
        else:
            raise OSError(f"SipEndpoint: no port free for both UDP and TCP on {host}")
        self.address = (host, bound)
        tls_port = None
        if self._tls is not None:
            try:
                tls_port = self._listen(host, self._tls.port, "TLS", self._tls.server)
            except OSError:
                await self.close()  # UDP and TCP are up: not half an endpoint
                raise
            self.tls_address = (host, tls_port)
        self._ua = UserAgent(
            local_host=host,
            local_port=bound,
            tls_port=tls_port,
            guard=self.guard,
            **self._ua_options,
        )
        self._worker = loop.create_task(self._deliver_events())
        return self.address

    async def close(self) -> None:
        for handle in (self._timer, self._sweep, self._summary):
            if handle is not None:
                handle.cancel()
        self._timer = self._sweep = self._summary = None
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
        for listener in self._listeners:
            assert self._loop is not None
            self._loop.remove_reader(listener.sock.fileno())
            listener.sock.close()
        self._listeners.clear()
        if self._spare_fd is not None:
            os.close(self._spare_fd)
            self._spare_fd = None
        for accepted in list(self._accepted.values()):
            if accepted.transport is not None:
                accepted.transport.close()
        self._accepted.clear()
        for conn in list(self._connections.values()):
            if conn.transport is not None:
                conn.transport.close()
        self._connections.clear()
        for task in [*self._tasks, self._worker]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    # ------------------------------------------------------------ TCP accepting

    def set_tls_name(self, destination: Address, name: str) -> None:
        """Check the certificate of the TLS peer at ``destination`` against host ``name``
        (a trunk configured by name); others are checked against their address."""
        self._tls_names[destination] = name

    def _listen(self, host: str, port: int, transport: str, context: ssl.SSLContext | None) -> int:
        """Open a TCP (or TLS) listener and accept by hand (see the module docstring);
        returns the port bound."""
        assert self._loop is not None
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(4096)  # the kernel caps it at net.core.somaxconn
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        listener = _Listener(sock, transport, context)
        self._listeners.append(listener)
        if self._spare_fd is None:
            with contextlib.suppress(OSError):
                self._spare_fd = os.open(os.devnull, os.O_RDONLY)
        self._loop.add_reader(sock.fileno(), self._accept_ready, listener)
        return int(sock.getsockname()[1])

    def _accept_ready(self, listener: _Listener) -> None:
        assert self._loop is not None
        for _ in range(64):  # a burst, then let UDP and timers run
            try:
                conn, peer = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_FDS:
                    self._out_of_fds(listener, exc)
                    return
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                self._refused(None, f"accept failed: {exc}")
                return
            address = peer[0]
            if self.guard is not None and self.guard.is_banned(address, self.now()):
                conn.close()  # banned: refused like its datagrams, without a line each
                continue
            conn_id = next(_conn_ids)
            refusal = self._gate.accept(conn_id, address, self.now())
            if refusal is not None:
                conn.close()
                self._refused(address, refusal)
                continue
            conn.setblocking(False)
            protocol = _TcpConnection(self, conn_id, listener.transport)
            self._accepted[conn_id] = protocol
            task = self._loop.create_task(self._adopt(conn, protocol, listener.ssl, peer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self._arm_sweep()

    async def _adopt(
        self,
        conn: socket.socket,
        protocol: _TcpConnection,
        context: ssl.SSLContext | None,
        peer: Any,
    ) -> None:
        assert self._loop is not None
        try:
            if context is None:
                await self._loop.connect_accepted_socket(lambda: protocol, conn)
            else:
                assert self._tls is not None
                await self._loop.connect_accepted_socket(
                    lambda: protocol,
                    conn,
                    ssl=context,
                    ssl_handshake_timeout=self._tls.handshake_timeout,
                )
        except (OSError, ValueError) as exc:  # ssl.SSLError and timeouts are OSErrors
            conn.close()
            self._gate.closed(protocol.conn_id)
            self._accepted.pop(protocol.conn_id, None)
            if context is not None:
                self.tls_handshake_failures += 1
                self._problem((peer[0], peer[1]), "TLS", f"handshake failed: {_reason(exc)}")
            else:
                self._refused(None, f"could not set up the connection: {exc}")

    def _out_of_fds(self, listener: _Listener, exc: OSError) -> None:
        """No descriptor for a new connection: accept it on the spare one and close it."""
        refused = 0
        while self._spare_fd is not None and refused < 64:
            os.close(self._spare_fd)
            self._spare_fd = None
            try:
                conn, _ = listener.sock.accept()
                conn.close()
                refused += 1
            except OSError:
                refused = -1  # backlog empty (or still no descriptor): stop here
            with contextlib.suppress(OSError):
                self._spare_fd = os.open(os.devnull, os.O_RDONLY)
            if refused < 0:
                break
        if self._spare_fd is None and self._loop is not None and listener in self._listeners:
            # No spare to refuse with: stop reading the listener for a moment rather than
            # spin on it; the kernel's backlog holds (or refuses) the callers meanwhile.
            self._loop.remove_reader(listener.sock.fileno())
            self._loop.call_later(0.5, self._resume_accepting, listener)
        self._refused(
            None,
            f"out of file descriptors ({errno.errorcode.get(exc.errno or 0)})",
            count=max(refused, 0),
        )

    def _resume_accepting(self, listener: _Listener) -> None:
        if listener not in self._listeners or self._loop is None:
            return
        if self._spare_fd is None:
            with contextlib.suppress(OSError):
                self._spare_fd = os.open(os.devnull, os.O_RDONLY)
        self._loop.add_reader(listener.sock.fileno(), self._accept_ready, listener)

    def _refused(self, address: str | None, why: str, count: int = 1) -> None:
        self.refused_connections += count
        if self._refusals.allow(self.now()):
            log.warning(
                "sip.tcp_refused",
                extra={"source": address or "-", "why": why, "refused": self.refused_connections},
            )
        self._arm_summary()

    def _arm_sweep(self) -> None:
        """While connections are open, look at their timeouts every ``step`` seconds."""
        if self._sweep is not None or self._loop is None or not self._gate.count():
            return
        policy = self._gate.policy
        step = min(1.0, policy.read_timeout / 4, policy.idle_timeout / 4)
        self._sweep = self._loop.call_later(step, self._on_sweep)

    def _on_sweep(self) -> None:
        self._sweep = None
        for conn_id, why in self._gate.expired(self.now()):
            conn = self._accepted.pop(conn_id, None)
            if conn is not None and conn.transport is not None:
                log.debug("sip tcp %s:%d: %s, closing", *conn.peer, why)
                conn.transport.close()
        self._arm_sweep()

    # ------------------------------------------------------------ quiet logs

    def _problem(self, source: Address, transport: str, what: str) -> None:
        """One warning line per problem a peer caused, within budget; then a summary."""
        if self._problems.allow(self.now()):
            log.warning(
                "sip.protocol_error",
                extra={"source": f"{source[0]}:{source[1]}", "transport": transport, "what": what},
            )
        self._arm_summary()

    def _arm_summary(self) -> None:
        if self._summary is not None or self._loop is None:
            return
        deadlines = [d for d in (self._problems.deadline(), self._refusals.deadline()) if d]
        if deadlines:
            self._summary = self._loop.call_at(min(deadlines), self._on_summary)

    def _on_summary(self) -> None:
        self._summary = None
        now = self.now()
        held = self._problems.summary(now)
        if held:
            log.warning("sip.protocol_errors_suppressed", extra={"count": held, "seconds": 60})
        held = self._refusals.summary(now)
        if held:
            log.warning(
                "sip.tcp_refused_suppressed",
                extra={"count": held, "seconds": 60, "refused": self.refused_connections},
            )
        self._arm_summary()

    def _log_notices(self) -> None:
        guard = self.guard
        if guard is None:
            return
        while (notice := guard.next_notice()) is not None:
            if isinstance(notice, Banned):
                for conn in [c for c in self._accepted.values() if c.peer[0] == notice.address]:
                    if conn.transport is not None:
                        conn.transport.close()
                log.warning(
                    "sip.ban",
                    extra={
                        "address": notice.address,
                        "seconds": round(notice.seconds),
                        "reason": notice.reason,
                        "count": notice.count,
                    },
                )
            else:
                log.warning(
                    "sip.unban",
                    extra={
                        "address": notice.address,
                        "reason": notice.reason,
                        "dropped": notice.dropped,
                    },
                )

    # ------------------------------------------------------------ core driving

    def _received(self, data: bytes, source: Address, transport: str) -> None:
        try:
            self.ua.receive_bytes(data, source, transport, self.now())
        except Exception as exc:  # a core bug must not kill the endpoint
            self._problem(source, transport, f"internal error {type(exc).__name__}: {exc}")
            log.debug("sip: error processing message from %s:%d", *source, exc_info=True)
        self.transmit()

    def _rejected(self, error: SipParseError, source: Address, transport: str) -> None:
        try:
            self.ua.reject_malformed(error, source, transport)
            self.ua.problems.clear()  # already logged by the caller
        except Exception as exc:
            self._problem(source, transport, f"internal error {type(exc).__name__}: {exc}")
        self.transmit()

    def _on_timer(self) -> None:
        self._timer = None
        try:
            self.ua.handle_timer(self.now())
        except Exception:
            log.exception("sip: error in timer handling")
        self.transmit()

    def transmit(self) -> None:
        """Send what the core queued, re-arm the timer, and queue events for ``on_event``."""
        ua = self.ua
        for msg, destination, transport in ua.messages_to_send():
            try:
                self._send(msg, destination, transport)
            except Exception as exc:  # unresolvable address, closed socket...
                ua.report_transport_error(msg, destination, transport, str(exc), self.now())
        while (event := ua.next_event()) is not None:
            self._events.put_nowait(event)
        while ua.problems:
            source, transport, what = ua.problems.popleft()
            self._problem(source, transport, what)
        self._log_notices()
        deadline = ua.get_timer()
        if self._timer is not None and (deadline is None or self._timer.when() != deadline):
            self._timer.cancel()
            self._timer = None
        if deadline is not None and self._timer is None and self._loop is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _send(self, msg: SipRequest | SipResponse, destination: Address, transport: str) -> None:
        data = serialize(msg)
        if transport == "UDP":
            assert self._udp is not None
            self._udp.sendto(data, destination)
            return
        if transport not in STREAMS or (transport == "TLS" and self._tls is None):
            raise OSError(f"transport {transport} not supported by this endpoint")
        key = (transport, destination)
        conn = self._connections.get(key)
        if conn is not None:
            conn.write(data)
            return
        queued = self._connecting.get(key)
        if queued is not None:
            queued.append((msg, data))
            return
        self._connecting[key] = [(msg, data)]
        task = asyncio.get_running_loop().create_task(self._connect(transport, destination))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, transport: str, destination: Address) -> None:
        assert self._loop is not None
        key = (transport, destination)
        tls: dict[str, Any] = {}
        if transport == "TLS":
            assert self._tls is not None
            tls = {
                "ssl": self._tls.client,
                "server_hostname": self._tls_names.get(destination, destination[0]),
                "ssl_handshake_timeout": self._tls.handshake_timeout,
            }
        try:
            _, conn = await self._loop.create_connection(
                lambda: _TcpConnection(self, 0, transport), destination[0], destination[1], **tls
            )
        except (OSError, ValueError) as exc:  # refused, certificate not trusted, timeout
            reason = _reason(exc)
            if transport == "TLS":
                log.warning(
                    "sip.tls_connect_failed",
                    extra={"destination": f"{destination[0]}:{destination[1]}", "why": reason},
                )
            for msg, _ in self._connecting.pop(key, []):
                self.ua.report_transport_error(msg, destination, transport, reason, self.now())
            self.transmit()
            return
        # Key it by the address we dialled too (peername may be normalised differently).
        self._connections[key] = conn
        for _, data in self._connecting.pop(key, []):
            conn.write(data)

    async def _deliver_events(self) -> None:
        while True:
            event = await self._events.get()
            try:
                await self._on_event(event)
            except Exception:
                log.exception("sip: on_event handler failed for %s", type(event).__name__)


def _reason(exc: BaseException) -> str:
    """A short reason for a failed connection or handshake (no traceback, no key material)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not accepted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return exc.reason or type(exc).__name__
    if isinstance(exc, ConnectionAbortedError | TimeoutError):
        return str(exc) or "timed out"
    return str(exc) or type(exc).__name__
