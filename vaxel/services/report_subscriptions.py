"""Report subscriptions and the scheduler that mails them (SPEC S12).

A subscription (stored, ``report_subscriptions``) names a report, its parameters (queues,
agents), a periodicity in a time zone, the recipient's email address and an owner. The
scheduler is an asyncio executor around the pure ``reports.Schedule`` (``now`` in, the
period due out): it wakes at the next due time (or when a subscription is added), and for
each due period

1. writes a ``report_sends`` row (``pending``; unique per subscription and period, with the
   Message-ID the mail will carry) — a period is claimed once, whatever happens next;
2. builds the report, the charts and the message;
3. sets the row ``sending`` (committed) and hands the mail to the SMTP server;
4. sets it ``sent``, or back to ``pending`` with the next attempt's time (a failed SMTP
   delivery is retried: ``[voicemail] mail_retry_delays``), or ``failed`` after the last.

At start, a row left ``sending`` (the server stopped while the SMTP server had the mail)
becomes ``unknown`` and is never sent again: the mail may have gone out, and a report
must never arrive twice. Periods missed while the server was down are sent when it is
back, once (the latest period: ``reports.schedule``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from config import MAIL_RETRY_DELAYS, SmtpConfig
from reports import DETAIL, ParamError, ReportKind, ReportParams, Schedule, periodicity_of
from vaxel import mail
from vaxel.logs import log_event
from vaxel.storage.models import ReportSendRow, ReportSubscriptionRow, as_utc

from .report_mail import charts, report_message
from .reports import ReportService

log = logging.getLogger("vaxel.reports")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")
TITLES = {
    ReportKind.KEY_FIGURES: "Key figures",
    ReportKind.AGENTS: "Agent statistics",
    ReportKind.NKI: "NKI survey",
    ReportKind.CALLS: "Call detail",
}
# The longest the scheduler sleeps: a changed clock or a lost wake-up costs at most this.
MAX_SLEEP = 60.0


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    owner: str
    email: str
    report: str
    periodicity: str
    time_zone: str
    queues: tuple[str, ...] | None
    agents: tuple[str, ...] | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner": self.owner,
            "email": self.email,
            "report": self.report,
            "periodicity": self.periodicity,
            "time_zone": self.time_zone,
            "queues": list(self.queues) if self.queues is not None else None,
            "agents": list(self.agents) if self.agents is not None else None,
            "created_at": self.created_at.isoformat(),
        }

    def schedule(self) -> Schedule:
        return Schedule(self.periodicity, self.time_zone)


@dataclass(frozen=True, slots=True)
class Send:
    id: int
    subscription_id: int
    period_start: datetime
    period_end: datetime
    status: str
    attempts: int
    error: str | None
    message_id: str
    sent_at: datetime | None
    next_attempt_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subscription_id": self.subscription_id,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "message_id": self.message_id,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }


def _sub(r: ReportSubscriptionRow) -> Subscription:
    return Subscription(
        r.id, r.owner, r.email, r.report, r.periodicity, r.time_zone,
        tuple(r.queues) if r.queues is not None else None,
        tuple(r.agents) if r.agents is not None else None,
        as_utc(r.created_at),
    )  # fmt: skip


def _send(r: ReportSendRow) -> Send:
    return Send(
        r.id, r.subscription_id, as_utc(r.period_start), as_utc(r.period_end), r.status,
        r.attempts, r.error, r.message_id, as_utc(r.sent_at), as_utc(r.next_attempt_at),
    )  # fmt: skip


_SUB_FIELDS = frozenset(
    {"owner", "email", "report", "periodicity", "time_zone", "queues", "agents"}
)


class SubscriptionStore:
    """Stored subscriptions and sends; validation with errors naming the field."""

    def __init__(self, sessions: async_sessionmaker, service: ReportService) -> None:
        self._sessions = sessions
        self.service = service

    def validate(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise ParamError("body", "expected a JSON object")
        email = body.get("email")
        if email is None or (isinstance(email, str) and not email.strip()):
            raise ParamError(
                "email",
                "required: reports are sent by email, so a subscription needs the "
                "recipient's address",
            )
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            raise ParamError("email", f"expected an email address (name@example.com), got "
                             f"{email!r}")  # fmt: skip
        owner = body.get("owner")
        if not isinstance(owner, str) or not owner.strip() or len(owner) > 128:
            raise ParamError("owner", "required: the name of the subscription's owner "
                             "(1-128 characters)")  # fmt: skip
        try:
            periodicity = periodicity_of(str(body.get("periodicity")))
        except ValueError as exc:
            raise ParamError("periodicity", str(exc).partition(": ")[2]) from None
        zone = body.get("time_zone") or self.service.config.server.time_zone
        # The report parameters as the API would take them (queues, agents, zone).
        params = self.service.params(
            {"queues": body.get("queues"), "agents": body.get("agents"), "time_zone": zone},
            report=str(body.get("report")),
        )
        return {
            "owner": owner.strip(),
            "email": email.strip(),
            "report": params.report.value,
            "periodicity": periodicity.value,
            "time_zone": params.zone,
            "queues": list(params.queues) if params.queues is not None else None,
            "agents": list(params.agents) if params.agents is not None else None,
        }

    async def create(self, body: Mapping[str, Any], now: float) -> Subscription:
        values = self.validate(body)
        async with self._sessions() as session, session.begin():
            row = ReportSubscriptionRow(**values, created_at=datetime.fromtimestamp(now, UTC))
            session.add(row)
            await session.flush()
            return _sub(row)

    async def all(self) -> list[Subscription]:
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(ReportSubscriptionRow).order_by(ReportSubscriptionRow.id)
                )  # fmt: skip
            ).all()
        return [_sub(r) for r in rows]

    async def get(self, sub_id: int) -> Subscription | None:
        async with self._sessions() as session:
            row = await session.get(ReportSubscriptionRow, sub_id)
        return _sub(row) if row is not None else None

    async def update(self, sub_id: int, body: Mapping[str, Any]) -> Subscription | None:
        """Change fields of a subscription (the rest stay); None: no such subscription.
        Periods already sent stay sent; the next one follows the new settings."""
        if not isinstance(body, Mapping):
            raise ParamError("body", "expected a JSON object")
        unknown = sorted(set(body) - _SUB_FIELDS)
        if unknown:
            raise ParamError(
                unknown[0], f"unknown field (allowed: {', '.join(sorted(_SUB_FIELDS))})"
            )
        old = await self.get(sub_id)
        if old is None:
            return None
        current = {k: v for k, v in old.as_dict().items() if k in _SUB_FIELDS}
        values = self.validate({**current, **body})
        async with self._sessions() as session, session.begin():
            row = await session.get(ReportSubscriptionRow, sub_id)
            if row is None:
                return None
            for key, value in values.items():
                setattr(row, key, value)
            await session.flush()
            return _sub(row)

    async def delete(self, sub_id: int) -> bool:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(ReportSendRow).where(
                ReportSendRow.subscription_id == sub_id))  # fmt: skip
            res = await session.execute(
                delete(ReportSubscriptionRow).where(ReportSubscriptionRow.id == sub_id)
            )
        return bool(getattr(res, "rowcount", 0))

    async def sends(self, sub_id: int | None = None) -> list[Send]:
        stmt = select(ReportSendRow).order_by(ReportSendRow.id)
        if sub_id is not None:
            stmt = stmt.where(ReportSendRow.subscription_id == sub_id)
        async with self._sessions() as session:
            return [_send(r) for r in (await session.scalars(stmt)).all()]

    async def last_ends(self) -> dict[int, datetime]:
        """Per subscription, the end of the latest period claimed (whatever its state)."""
        stmt = select(ReportSendRow.subscription_id, func.max(ReportSendRow.period_end)).group_by(
            ReportSendRow.subscription_id
        )
        async with self._sessions() as session:
            return {sid: as_utc(end) for sid, end in (await session.execute(stmt)).all()}

    async def claim(self, sub: Subscription, start: float, end: float, now: float,
                    domain: str) -> Send | None:  # fmt: skip
        """Write the ``pending`` row of one period; None if it was claimed already."""
        row = ReportSendRow(
            subscription_id=sub.id,
            period_start=datetime.fromtimestamp(start, UTC),
            period_end=datetime.fromtimestamp(end, UTC),
            status="pending",
            attempts=0,
            message_id=f"<report-{sub.id}-{int(start)}-{secrets.token_hex(6)}@{domain}>",
            created_at=datetime.fromtimestamp(now, UTC),
            next_attempt_at=datetime.fromtimestamp(now, UTC),
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
                await session.flush()
                return _send(row)
        except IntegrityError:
            return None

    async def update_send(self, send_id: int, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ReportSendRow).where(ReportSendRow.id == send_id).values(**values)
            )

    async def pending(self) -> list[Send]:
        stmt = select(ReportSendRow).where(ReportSendRow.status == "pending").order_by(
            ReportSendRow.next_attempt_at)  # fmt: skip
        async with self._sessions() as session:
            return [_send(r) for r in (await session.scalars(stmt)).all()]

    async def interrupted(self) -> list[Send]:
        """Sends left ``sending`` by a server that stopped: marked ``unknown``."""
        async with self._sessions() as session, session.begin():
            rows = (await session.scalars(
                select(ReportSendRow).where(ReportSendRow.status == "sending"))).all()  # fmt: skip
            for r in rows:
                r.status = "unknown"
                r.error = ("the server stopped while the mail was with the SMTP server; "
                           "not resent (it may have arrived)")  # fmt: skip
        return [_send(r) for r in rows]


def api_query(params: ReportParams) -> str:
    """The API request that gives the same report (CSV)."""
    q: dict[str, str] = {
        "from": params.start.isoformat(),
        "to": params.end.isoformat(),
        "interval": params.interval.value,
        "time_zone": params.zone,
        "format": "csv",
    }
    if params.queues:
        q["queues"] = ",".join(params.queues)
    if params.agents:
        q["agents"] = ",".join(params.agents)
    return f"/api/reports/{params.report.value}?{urlencode(q)}"


class ReportScheduler:
    """Sends each due report once (see the module docstring)."""

    def __init__(
        self,
        store: SubscriptionStore,
        service: ReportService,
        smtp: SmtpConfig,
        *,
        clock: Callable[[], float] = time.time,
        retry_delays: tuple[float, ...] = MAIL_RETRY_DELAYS,
    ) -> None:
        self.store = store
        self.service = service
        self.smtp = smtp
        self.clock = clock
        self.retry_delays = retry_delays
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0  # finished scheduling rounds (tests wait on it)

    async def start(self) -> None:
        for s in await self.store.interrupted():
            log_event(log, "report.send_unknown", level=logging.WARNING, send=s.id,
                      subscription=s.subscription_id, message_id=s.message_id)  # fmt: skip
        self._task = asyncio.create_task(self._run(), name="report-scheduler")

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                next_at = await self.run_once()
            except Exception:
                log.exception("report scheduler round failed")
                next_at = self.clock() + MAX_SLEEP
            self.rounds += 1
            delay = min(max(0.0, next_at - self.clock()), MAX_SLEEP)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def run_once(self) -> float:
        """Claim every due period, deliver every pending send that is due; returns when
        the next round is needed."""
        now = self.clock()
        subs = await self.store.all()
        last = await self.store.last_ends()
        domain = self.smtp.sender.rpartition("@")[2] or "vaxel.local"
        next_at = now + MAX_SLEEP
        for sub in subs:
            sched = sub.schedule()
            created = sub.created_at.timestamp()
            end = last.get(sub.id)
            last_end = end.timestamp() if end is not None else None
            due = sched.due(created_at=created, last_end=last_end, now=now)
            if due is not None:
                claimed = await self.store.claim(sub, due.start, due.end, now, domain)
                if claimed is not None:
                    log_event(log, "report.due", subscription=sub.id, skipped=due.skipped,
                              period_start=claimed.period_start.isoformat())  # fmt: skip
                last_end = due.end
            next_at = min(next_at, sched.next_due(created_at=created, last_end=last_end,
                                                  now=now))  # fmt: skip
        by_id = {s.id: s for s in subs}
        for send in await self.store.pending():
            when = send.next_attempt_at.timestamp() if send.next_attempt_at else now
            if when > now:
                next_at = min(next_at, when)
                continue
            owner = by_id.get(send.subscription_id)
            if owner is None:
                continue
            retry_at = await self.deliver(owner, send)
            if retry_at is not None:
                next_at = min(next_at, retry_at)
        return next_at

    async def build(self, sub: Subscription, send: Send) -> tuple[Any, bytes]:
        """The message of one send, and the CSV it carries."""
        zone = sub.time_zone
        local = ZoneInfo(zone)
        params = self.service.params(
            {
                "from": send.period_start.astimezone(local).isoformat(),
                "to": send.period_end.astimezone(local).isoformat(),
                "interval": DETAIL[periodicity_of(sub.periodicity)].value,
                "time_zone": zone,
                "queues": list(sub.queues) if sub.queues else None,
                "agents": list(sub.agents) if sub.agents else None,
            },
            report=sub.report,
        )
        run = await self.service.run(params, rollup_for_charts=True)
        rendered = self.service.render(run, "csv")
        rollup = run.rollup
        assert rollup is not None
        queue_rows = [f for f in rollup.queue_figures(params.queues)
                      if params.start <= f.start < params.end]  # fmt: skip
        agent_rows = [f for f in rollup.agent_figures(params.agents)
                      if params.start <= f.start < params.end]  # fmt: skip
        slots = []
        t = params.start.timestamp()
        while t < params.end.timestamp():
            lo, hi = rollup.periods.bounds(t)
            slots.append((rollup.periods.local(lo), rollup.periods.local(hi)))
            t = hi
        pngs = await asyncio.to_thread(charts, queue_rows, agent_rows, slots)
        title = (f"{TITLES[params.report]}, {sub.periodicity} report "
                 f"{params.start.strftime('%Y-%m-%d')}")  # fmt: skip
        msg = report_message(
            sender=self.smtp.sender,
            recipient=sub.email,
            title=title,
            run=run,
            csv_name=rendered.filename,
            csv_body=rendered.body,
            api_query=api_query(params),
            message_id=send.message_id,
            date=datetime.fromtimestamp(self.clock(), UTC),
            chart_pngs=pngs,
        )
        return msg, rendered.body

    async def deliver(self, sub: Subscription, send: Send) -> float | None:
        """One attempt; returns the time of the next attempt, or None (sent or given up)."""
        attempt = send.attempts + 1
        try:
            msg, _ = await self.build(sub, send)
        except Exception as exc:
            log.exception("report %s of subscription %s could not be built", send.id, sub.id)
            return await self._failed(send, attempt, f"building the report: {exc}")
        await self.store.update_send(send.id, status="sending", attempts=attempt)
        try:
            await mail.send(self.smtp, msg)
        except mail.MailError as exc:
            return await self._failed(send, attempt, str(exc))
        await self.store.update_send(
            send.id, status="sent", error=None, next_attempt_at=None,
            sent_at=datetime.fromtimestamp(self.clock(), UTC),
        )  # fmt: skip
        log_event(log, "report.sent", subscription=sub.id, send=send.id, to=sub.email,
                  attempt=attempt)  # fmt: skip
        return None

    async def _failed(self, send: Send, attempt: int, error: str) -> float | None:
        i = attempt - 1
        delay = self.retry_delays[i] if i < len(self.retry_delays) else None
        now = self.clock()
        if delay is None:
            await self.store.update_send(send.id, status="failed", attempts=attempt,
                                         error=error[:1000], next_attempt_at=None)  # fmt: skip
        else:
            await self.store.update_send(
                send.id, status="pending", attempts=attempt, error=error[:1000],
                next_attempt_at=datetime.fromtimestamp(now + delay, UTC),
            )  # fmt: skip
        log_event(
            log,
            "report.send_failed",
            level=logging.WARNING,
            send=send.id,
            attempt=attempt,
            error=error,
            retry_in=delay if delay is not None else "never",
        )
        return now + delay if delay is not None else None
