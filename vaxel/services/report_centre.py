"""The report centre of one running server: reports on demand, live queue figures and the
subscription scheduler, built and started together (``VaxelServer`` owns one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from config import MAIL_RETRY_DELAYS
from vaxel.storage import sessionmaker

from .live_figures import LiveFigures
from .report_subscriptions import ReportScheduler, SubscriptionStore
from .reports import ReportService

if TYPE_CHECKING:
    from acd import Acd
    from vaxel.host import Host


class ReportCentre:
    def __init__(self, host: Host, acd_of: Callable[[], Acd | None],
                 clock: Callable[[], float]) -> None:  # fmt: skip
        config = host.config
        self.service = ReportService(host.calllog, config, clock=clock)
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

    async def close(self) -> None:
        await self.scheduler.close()
        await self.live.close()
