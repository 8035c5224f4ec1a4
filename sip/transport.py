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
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from sip.guard import Banned, LineBudget, SourceGuard, TcpGate, TcpPolicy
from sip.message import SipRequest, SipResponse
from sip.parser import SipParseError, StreamFramer, serialize
from sip.useragent import Event, UserAgent

log = logging.getLogger(__name__)

Address = tuple[str, int]
EventHandler = Callable[[Event], Awaitable[None]]


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
    """One TCP connection (accepted or opened by us), keyed by the peer's address."""

    def __init__(self, endpoint: SipEndpoint, conn_id: int = 0) -> None:
        self.endpoint = endpoint
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)
        self.conn_id = conn_id  # non-zero: accepted, watched by the endpoint's TcpGate

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = (peer[0], peer[1])
        self.endpoint._connections[self.peer] = self

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except SipParseError as exc:
            # A stream cannot resynchronise after a framing error: answer the request if
            # it can be routed (written before close() flushes), then drop the connection.
            self.endpoint._problem(self.peer, "TCP", f"{exc.status} {exc.reason}, closing")
            self.endpoint._rejected(exc, self.peer, "TCP")
            if self.transport is not None:
                self.transport.close()
            return
        if self.conn_id:
            self.endpoint._gate.activity(
                self.conn_id, self.endpoint.now(), partial=self.framer.buffered > 0
            )
        for frame in frames:
            self.endpoint._received(frame, self.peer, "TCP")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.endpoint._connections.get(self.peer) is self:
            del self.endpoint._connections[self.peer]
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
        **ua_options: Any,
    ) -> None:
        """``ua_options`` go to ``UserAgent`` (user_agent, timers, allow, supported...);
        ``guard``: per-source limits and bans; ``tcp``: connection caps and timeouts."""
        self._on_event = on_event
        self._ua_options = ua_options
        self.guard = guard
        self._gate = TcpGate(tcp, guard)
        self._accepted: dict[int, _TcpConnection] = {}
        self._listener: socket.socket | None = None
        self._spare_fd: int | None = None
        self._sweep: asyncio.TimerHandle | None = None
        self._problems = LineBudget(lines=20, interval=60.0)
        self._refusals = LineBudget(lines=1, interval=60.0)
        self._summary: asyncio.TimerHandle | None = None
        self.refused_connections = 0
        self._ua: UserAgent | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._connections: dict[Address, _TcpConnection] = {}
        self._connecting: dict[Address, list[tuple[SipRequest | SipResponse, bytes]]] = {}
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
                self._listen(host, bound)
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
        self._ua = UserAgent(
            local_host=host, local_port=bound, guard=self.guard, **self._ua_options
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
        if self._listener is not None:
            assert self._loop is not None
            self._loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
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

    def _listen(self, host: str, port: int) -> None:
        """Open the TCP listener and accept by hand (see the module docstring)."""
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
        self._listener = sock
        with contextlib.suppress(OSError):
            self._spare_fd = os.open(os.devnull, os.O_RDONLY)
        self._loop.add_reader(sock.fileno(), self._accept_ready)

    def _accept_ready(self) -> None:
        assert self._listener is not None and self._loop is not None
        for _ in range(64):  # a burst, then let UDP and timers run
            try:
                conn, peer = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_FDS:
                    self._out_of_fds(exc)
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
            protocol = _TcpConnection(self, conn_id)
            self._accepted[conn_id] = protocol
            task = self._loop.create_task(self._adopt(conn, protocol))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self._arm_sweep()

    async def _adopt(self, conn: socket.socket, protocol: _TcpConnection) -> None:
        assert self._loop is not None
        try:
            await self._loop.connect_accepted_socket(lambda: protocol, conn)
        except OSError as exc:
            conn.close()
            self._gate.closed(protocol.conn_id)
            self._accepted.pop(protocol.conn_id, None)
            self._refused(None, f"could not set up the connection: {exc}")

    def _out_of_fds(self, exc: OSError) -> None:
        """No descriptor for a new connection: accept it on the spare one and close it."""
        assert self._listener is not None
        refused = 0
        while self._spare_fd is not None and refused < 64:
            os.close(self._spare_fd)
            self._spare_fd = None
            try:
                conn, _ = self._listener.accept()
                conn.close()
                refused += 1
            except OSError:
                refused = -1  # backlog empty (or still no descriptor): stop here
            with contextlib.suppress(OSError):
                self._spare_fd = os.open(os.devnull, os.O_RDONLY)
            if refused < 0:
                break
        if self._spare_fd is None and self._loop is not None and self._listener is not None:
            # No spare to refuse with: stop reading the listener for a moment rather than
            # spin on it; the kernel's backlog holds (or refuses) the callers meanwhile.
            fd = self._listener.fileno()
            self._loop.remove_reader(fd)
            self._loop.call_later(0.5, self._resume_accepting)
        self._refused(
            None,
            f"out of file descriptors ({errno.errorcode.get(exc.errno or 0)})",
            count=max(refused, 0),
        )

    def _resume_accepting(self) -> None:
        if self._listener is None or self._loop is None:
            return
        if self._spare_fd is None:
            with contextlib.suppress(OSError):
                self._spare_fd = os.open(os.devnull, os.O_RDONLY)
        self._loop.add_reader(self._listener.fileno(), self._accept_ready)

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
        if transport != "TCP":
            raise OSError(f"transport {transport} not supported by this endpoint")
        conn = self._connections.get(destination)
        if conn is not None:
            conn.write(data)
            return
        queued = self._connecting.get(destination)
        if queued is not None:
            queued.append((msg, data))
            return
        self._connecting[destination] = [(msg, data)]
        task = asyncio.get_running_loop().create_task(self._connect(destination))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, destination: Address) -> None:
        assert self._loop is not None
        try:
            _, conn = await self._loop.create_connection(
                lambda: _TcpConnection(self), destination[0], destination[1]
            )
        except OSError as exc:
            for msg, _ in self._connecting.pop(destination, []):
                self.ua.report_transport_error(msg, destination, "TCP", str(exc), self.now())
            self.transmit()
            return
        # Key it by the address we dialled too (peername may be normalised differently).
        self._connections[destination] = conn
        for _, data in self._connecting.pop(destination, []):
            conn.write(data)

    async def _deliver_events(self) -> None:
        while True:
            event = await self._events.get()
            try:
                await self._on_event(event)
            except Exception:
                log.exception("sip: on_event handler failed for %r", event)
