"""asyncio adapters for the sans-IO UA core: one UDP socket and one TCP listener per endpoint.

This is the only module of ``sip/`` that touches sockets and the clock. It
feeds received bytes to ``UserAgent.receive_bytes``, writes
``messages_to_send()`` with ``serialize``, re-arms one ``loop.call_at`` from
``get_timer()`` (deadlines are ``loop.time()`` values) and hands events, in
order, to the ``on_event`` coroutine supplied by the caller.

After calling UA methods directly (``endpoint.ua.invite(...)``), call
``endpoint.transmit()`` so the resulting messages leave and the timer is re-armed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

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


class _TcpConnection(asyncio.Protocol):
    """One TCP connection (accepted or opened by us), keyed by the peer's address."""

    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)

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
            log.info("sip tcp %s:%d: %s %s, closing", *self.peer, exc.status, exc.reason)
            self.endpoint._rejected(exc, self.peer, "TCP")
            if self.transport is not None:
                self.transport.close()
            return
        for frame in frames:
            self.endpoint._received(frame, self.peer, "TCP")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.endpoint._connections.get(self.peer) is self:
            del self.endpoint._connections[self.peer]

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class SipEndpoint:
    """A UserAgent bound to UDP and TCP on one host:port, driven by the asyncio loop."""

    def __init__(self, on_event: EventHandler, **ua_options: Any) -> None:
        """``ua_options`` go to ``UserAgent`` (user_agent, timers, allow, supported...)."""
        self._on_event = on_event
        self._ua_options = ua_options
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
                self._server = await loop.create_server(
                    lambda: _TcpConnection(self), host, bound, reuse_address=True
                )
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
        self._ua = UserAgent(local_host=host, local_port=bound, **self._ua_options)
        self._worker = loop.create_task(self._deliver_events())
        return self.address

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
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

    # ------------------------------------------------------------ core driving

    def _received(self, data: bytes, source: Address, transport: str) -> None:
        try:
            self.ua.receive_bytes(data, source, transport, self.now())
        except Exception:  # a core bug must not kill the endpoint
            log.exception("sip: error processing message from %s:%d", *source)
        self.transmit()

    def _rejected(self, error: SipParseError, source: Address, transport: str) -> None:
        try:
            self.ua.reject_malformed(error, source, transport)
        except Exception:
            log.exception("sip: error answering a malformed message from %s:%d", *source)
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
