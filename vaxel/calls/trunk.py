"""Vaxel's own registration to a SIP trunk (optional, ``register = true`` on the trunk).

Sends REGISTER, answers a 401/407 once with the trunk's credentials, and refreshes the
registration before it expires (or retries after a failure).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

from config import TrunkConfig
from sip import (
    DigestError,
    RequestTimeout,
    ResponseReceived,
    SipResponse,
    TransportError,
    build_authorization,
    choose_challenge,
)
from vaxel.logs import log_event

from .resolve import ResolveError, resolve_host

log = logging.getLogger("vaxel.trunk")

RETRY_AFTER_FAILURE = 60.0


class TrunkRegistration:
    def __init__(
        self,
        name: str,
        trunk: TrunkConfig,
        sip,
        contact: Callable[[str], str],  # noqa: ANN001
        expires: int = 600,
    ) -> None:
        self.name = name
        self.trunk = trunk
        self.sip = sip  # the SipEndpoint
        self.contact = contact
        self.expires = expires
        self.user = trunk.username or trunk.caller_id or "vaxel"
        self.registered = False
        self.handles: dict[str, asyncio.Future[object]] = {}
        self._task: asyncio.Task[None] | None = None
        self._call_id = f"{secrets.token_hex(10)}@vaxel"
        self._from_tag = secrets.token_hex(6)
        self._cseq = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"trunk-register-{self.name}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    def on_event(self, ev: object) -> bool:
        """Take the events of our own REGISTERs; True when the event was ours."""
        handle: str | None = getattr(ev, "handle", None)
        if not handle:
            return False
        fut = self.handles.get(handle)
        if fut is None:
            return False
        if isinstance(ev, ResponseReceived) and ev.response.status < 200:
            return True
        self.handles.pop(handle, None)
        if not fut.done():
            fut.set_result(ev)
        return True

    async def _send(self, auth: tuple[str, str] | None) -> object:
        self._cseq += 1
        host = await resolve_host(self.trunk.host)
        if self.trunk.transport == "tls":
            self.sip.set_tls_name((host, self.trunk.port), self.trunk.host)
        uri = f"sip:{self.trunk.host}:{self.trunk.port}"
        aor = f"sip:{self.user}@{self.trunk.host}"
        headers = [("Contact", self.contact(self.trunk.transport)), ("Expires", str(self.expires))]
        if auth is not None:
            headers.append(auth)
        handle = self.sip.ua.request(
            "REGISTER",
            target_uri=uri,
            destination=(host, self.trunk.port),
            transport=self.trunk.transport.upper(),
            from_uri=aor,
            to_uri=aor,
            headers=headers,
            call_id=self._call_id,
            cseq=self._cseq,
            from_tag=self._from_tag,
            now=self.sip.now(),
        )
        fut: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.handles[handle] = fut
        self.sip.transmit()
        return await fut

    async def register_once(self) -> float:
        """One registration; returns seconds until the next attempt."""
        try:
            ev = await self._send(None)
        except ResolveError as exc:
            return self._failed(f"cannot resolve the trunk host: {exc}")
        if isinstance(ev, ResponseReceived) and ev.response.status in (401, 407):
            auth = self._answer(ev.response)
            if auth is None:
                return self._failed("challenge cannot be answered (no credentials)")
            ev = await self._send(auth)
        if isinstance(ev, ResponseReceived) and 200 <= ev.response.status < 300:
            self.registered = True
            granted = _granted_expires(ev.response, self.expires)
            log_event(log, "trunk.registered", trunk=self.name, expires=granted)
            return max(10.0, granted * 0.8)
        if isinstance(ev, ResponseReceived):
            return self._failed(f"{ev.response.status} {ev.response.reason}")
        if isinstance(ev, RequestTimeout | TransportError):
            return self._failed("no answer from the trunk")
        return self._failed("unexpected event")

    def _answer(self, resp: SipResponse) -> tuple[str, str] | None:
        if not self.trunk.username or not self.trunk.password:
            return None
        header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        try:
            challenge = choose_challenge(resp.headers.get_all(header))
            value = build_authorization(
                challenge,
                method="REGISTER",
                uri=f"sip:{self.trunk.host}:{self.trunk.port}",
                username=self.trunk.username,
                password=self.trunk.password,
                cnonce=secrets.token_hex(8),
            )
        except DigestError:
            return None
        return ("Authorization" if resp.status == 401 else "Proxy-Authorization", value)

    def _failed(self, why: str) -> float:
        self.registered = False
        log_event(log, "trunk.register_failed", level=logging.WARNING, trunk=self.name, reason=why)
        return RETRY_AFTER_FAILURE

    async def _run(self) -> None:
        while True:
            try:
                delay = await self.register_once()
            except Exception:
                log.exception("trunk registration failed")
                delay = RETRY_AFTER_FAILURE
            await asyncio.sleep(delay)


def _granted_expires(resp: SipResponse, asked: int) -> int:
    value = resp.headers.get("Expires")
    try:
        return int(value) if value is not None else asked
    except ValueError:
        return asked
