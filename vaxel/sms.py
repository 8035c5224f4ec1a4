"""Text messages through a gateway: a log driver (the demo, tests) and an HTTP driver."""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp

from config import SmsConfig

from .logs import log_event

log = logging.getLogger("vaxel.sms")


class SmsError(Exception):
    """The gateway did not take the message; the text says why."""


class SmsGateway(Protocol):
    async def send(self, to: str, text: str) -> None:
        """Hand one message to the gateway; raises SmsError when it is refused."""


class LogSms:
    """Writes each message to the log (nothing is sent)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))
        log_event(log, "sms.logged", to=to, text=text)


class HttpSms:
    """POSTs ``{"from", "to", "text"}`` as JSON to the gateway; any 2xx counts as sent."""

    def __init__(self, config: SmsConfig) -> None:
        assert config.url is not None
        self.config = config

    async def send(self, to: str, text: str) -> None:
        c = self.config
        headers = {"Authorization": f"Bearer {c.token}"} if c.token else {}
        body = {"from": c.sender, "to": to, "text": text}
        timeout = aiohttp.ClientTimeout(total=c.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(c.url or "", json=body, headers=headers) as resp,
            ):
                if resp.status // 100 != 2:
                    raise SmsError(f"gateway answered {resp.status} {resp.reason}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SmsError(f"gateway unreachable: {exc or type(exc).__name__}") from None
        log_event(log, "sms.sent", to=to)


def sms_gateway(config: SmsConfig) -> SmsGateway:
    return HttpSms(config) if config.driver == "http" else LogSms()
