"""The report centre of one running server: reports on demand, live queue figures and the
subscription scheduler, built and started together (``VaxelServer`` owns one)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from config import MAIL_RETRY_DELAYS
from vaxel.storage import sessionmaker
from vaxel.storage.report_pieces import ReportPieceStore

from .live_figures import LiveFigures
from .report_subscriptions import ReportScheduler, SubscriptionStore
from .reports import ReportService

if TYPE_CHECKING:
    from acd import Acd
    from vaxel.host import Host

log = logging.getLogger("vaxel.reports")
# Finished days are computed and kept in the background (docs/reports.md): first this
# long after the start (not during it), then every SETTLE_EVERY.
SETTLE_FIRST = 120.0
SETTLE_EVERY = 1800.0


class ReportCentre:
    def __init__(self, host: Host, acd_of: Callable[[], Acd | None],
                 clock: Callable[[], float]) -> None:  # fmt: skip
        config = host.config
        self._host = host
        self.pieces = ReportPieceStore(sessionmaker(host.engine))
        self.service = ReportService(host.calllog, config, clock=clock, pieces=self.pieces)
        self._settler: asyncio.Task[None] | None = None
        self.subscriptions = SubscriptionStore(sessionmaker(host.engine), self.service)
        delays = getattr(getattr(config, "voicemail", None), "mail_retry_delays", None)
        self.scheduler = ReportScheduler(
            self.subscriptions,
            self.service,
            config.smtp,
            clock=clock,
            retry_delays=tuple(delays) if delays is not None else MAIL_RETRY_DELAYS,
        )
        self.live = LiveFigures(
            host.calllog,
            acd_of,
            {qid: q.service_level_seconds for qid, q in config.queues.items()},
            config.server.time_zone,
            host.events.publish,
            clock=clock,
        )

    async def start_live(self) -> None:
        """Today's figures from the log: before the first call is taken."""
        await self.live.start()

    async def start_scheduler(self) -> None:
        await self.scheduler.start()
        self._settler = asyncio.create_task(self._settle(), name="report-days")

    async def forget_days_of(self, call_ids: Sequence[str]) -> None:
        """Calls closed after a crash got events in the past: the kept days from the
        earliest of them on are counted again when next asked for."""
        first = None
        for call_id in call_ids:
            events = await self._host.calllog.events(call_id=call_id, limit=1)
            if events and (first is None or events[0].at < first):
                first = events[0].at
        if first is not None:
            await self.pieces.forget_from((first - timedelta(days=1)).date())

    async def _settle(self) -> None:
        await asyncio.sleep(SETTLE_FIRST)
        while True:
            try:
                made = await self.service.settle(self._host.config.server.time_zone)
                if made:
                    log.info("report days kept: %d", made)
            except Exception:
                log.exception("keeping finished report days failed")
            await asyncio.sleep(SETTLE_EVERY)

    async def close(self) -> None:
        if self._settler is not None:
            self._settler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._settler
            self._settler = None
        await self.scheduler.close()
        await self.live.close()
