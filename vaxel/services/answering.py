"""The answering service's companies, staff, absence notes and messages (docs/answering.md).

Shared by every front door. The database holds the companies (seeded from ``[companies]``
when it has none); after each change the in-memory ``CompanyBook`` the call path reads is
rebuilt, so a call to a company's number sees the change at once. A message taken for a
staff member is stored, mailed to them (one attempt; the row says whether it went out)
and logged in the call log of the call it was taken on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from answering import (
    Absence,
    AbsenceConfig,
    Company,
    CompanyBook,
    CompanyConfig,
    Staff,
    StaffConfig,
    company_problems,
    find_staff,
)
from config import SmtpConfig
from vaxel import mail
from vaxel.logs import log_event
from vaxel.storage.models import CompanyRow, StaffMessageRow, StaffRow, as_utc

from .audit import Actor, AuditLog
from .errors import ServiceError

log = logging.getLogger("vaxel.answering")

# (call id or None, event kind, data): how a step reaches the call log (wired by the stack).
CallNote = Callable[[str | None, str, dict[str, Any]], None]
Sender = Callable[[SmtpConfig, Any], Any]
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "body"
    return f"field {loc!r}: {err['msg']}"


def _valid(model: type[BaseModel], fields: Mapping[str, Any]) -> Any:
    try:
        return model.model_validate(dict(fields))
    except ValidationError as exc:
        raise ServiceError("invalid", _problem(exc)) from None


def _staff(row: StaffRow) -> Staff:
    absence = (
        Absence(row.absence_note, as_utc(row.absence_until), row.absence_redirect)
        if row.absence_note
        else None
    )
    return Staff(row.id, row.company_id, row.name, tuple(row.numbers or ()), row.email, absence)


def _company(row: CompanyRow, staff: list[StaffRow]) -> Company:
    return Company(
        row.id,
        row.name,
        tuple(row.numbers or ()),
        row.greeting,
        row.night_message,
        row.calendar,
        row.instructions or "",
        tuple(_staff(s) for s in sorted(staff, key=lambda s: (s.name, s.id))),
    )


def _company_config(c: Company) -> CompanyConfig:
    staff = [
        StaffConfig(
            name=s.name,
            numbers=list(s.numbers),
            email=s.email,
            absence=AbsenceConfig(note=s.absence.note, until=s.absence.until,
                                  redirect=s.absence.redirect) if s.absence else None,
        )  # fmt: skip
        for s in c.staff
    ]
    return CompanyConfig(
        name=c.name,
        numbers=list(c.numbers),
        greeting=c.greeting,
        night_message=c.night_message,
        calendar=c.calendar,
        instructions=c.instructions,
        staff=staff,
    )


def _message_json(row: StaffMessageRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "company": row.company_id,
        "staff_id": row.staff_id,
        "staff": row.staff_name,
        "call_id": row.call_id,
        "caller": row.caller,
        "number": row.number,
        "text": row.text,
        "taken_by": row.taken_by,
        "created_at": as_utc(row.created_at).isoformat(),
        "recipient": row.recipient,
        "mail_status": row.mail_status,
        "mail_error": row.mail_error,
        "mailed_at": as_utc(row.mailed_at).isoformat() if row.mailed_at else None,
    }


class AnsweringService:
    def __init__(
        self,
        sessions: async_sessionmaker,
        audit: AuditLog,
        *,
        plan: Mapping[str, str | None],
        calendars: Collection[str],
        smtp: SmtpConfig,
        time_zone: str = "UTC",
        send: Sender = mail.send,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self.audit = audit
        self.plan = dict(plan)  # number -> its queue (None: a service), from [numbers]
        self.calendars = set(calendars)
        self.smtp = smtp
        self.zone = ZoneInfo(time_zone)
        self._send = send
        self._clock = clock
        self.book = CompanyBook()
        self.note: CallNote = lambda call_id, kind, data: None
        # Told each new book: the server keeps its configuration's [companies] the stored
        # ones, so a change of the number plan is checked against them, not the file's.
        self.on_book: Callable[[CompanyBook], None] = lambda book: None

    def replan(self, plan: Mapping[str, str | None], calendars: Collection[str]) -> None:
        """The number plan or the calendars changed at run time (the administration API):
        companies are checked against the new ones from now on."""
        self.plan = dict(plan)
        self.calendars = set(calendars)

    def company_configs(self) -> dict[str, CompanyConfig]:
        """The stored companies as configuration (with their staff)."""
        return {c.id: _company_config(c) for c in self.book.companies.values()}

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # ------------------------------------------------------------------ loading

    async def seed(self, companies: Mapping[str, CompanyConfig]) -> int:
        """Store the configured companies if the database has none yet; returns how many."""
        async with self._sessions.begin() as session:
            count = (await session.execute(select(func.count()).select_from(CompanyRow))).scalar()
            if not count:
                now = self.now()
                for cid, c in companies.items():
                    session.add(self._company_row(cid, c, now))
                    await session.flush()
                    for s in c.staff:
                        session.add(self._staff_row(cid, s, now))
        await self.reload()
        return 0 if count else len(companies)

    async def reload(self) -> CompanyBook:
        async with self._sessions() as session:
            rows = list((await session.execute(select(CompanyRow))).scalars())
            staff = list((await session.execute(select(StaffRow))).scalars())
        by_company: dict[str, list[StaffRow]] = {}
        for s in staff:
            by_company.setdefault(s.company_id, []).append(s)
        self.book = CompanyBook(_company(r, by_company.get(r.id, [])) for r in rows)
        self.on_book(self.book)
        return self.book

    @staticmethod
    def _company_row(cid: str, c: CompanyConfig, now: datetime) -> CompanyRow:
        return CompanyRow(
            id=cid,
            name=c.name,
            numbers=list(c.numbers),
            greeting=c.greeting,
            night_message=c.night_message,
            calendar=c.calendar,
            instructions=c.instructions,
            updated_at=now,
        )

    @staticmethod
    def _staff_row(cid: str, s: StaffConfig, now: datetime) -> StaffRow:
        a = s.absence
        return StaffRow(
            company_id=cid,
            name=s.name,
            numbers=list(s.numbers),
            email=s.email,
            absence_note=a.note if a else None,
            absence_until=a.until if a else None,
            absence_redirect=a.redirect if a else None,
            updated_at=now,
        )

    # ------------------------------------------------------------------ reading

    def companies(self) -> list[dict[str, Any]]:
        now = self.now()
        return [
            c.as_dict(now, with_staff=False)
            for c in sorted(self.book.companies.values(), key=lambda c: c.id)
        ]

    def get(self, company_id: str) -> Company:
        company = self.book.get(company_id)
        if company is None:
            raise ServiceError("not_found", f"no company {company_id!r}")
        return company

    def company(self, company_id: str) -> dict[str, Any]:
        return self.get(company_id).as_dict(self.now())

    def staff_member(self, company_id: str, staff_id: int) -> Staff:
        company = self.get(company_id)
        found = find_staff(company, staff_id=staff_id)
        if found is None:
            raise ServiceError(
                "not_found", f"company {company_id!r} has no staff member with id {staff_id}"
            )
        return found

    def for_number(self, b_number: str | None) -> dict[str, Any] | None:
        """The company a call to ``b_number`` is for, with its staff (the agent's view)."""
        company = self.book.for_number(b_number)
        return company.as_dict(self.now()) if company is not None else None

    # ------------------------------------------------------------------ companies

    def _check_company(self, cid: str, c: CompanyConfig) -> None:
        others = {k: v for k, v in self._configs().items() if k != cid}
        problems = company_problems({**others, cid: c}, self.plan, self.calendars)
        mine = [(k, m) for k, m in problems if k.startswith(f"companies.{cid}.")]
        if mine:
            key, message = mine[0]
            raise ServiceError("invalid", f"field {key.rsplit('.', 1)[1]!r}: {message}")

    def _configs(self) -> dict[str, CompanyConfig]:
        return {
            c.id: CompanyConfig(name=c.name, numbers=list(c.numbers), calendar=c.calendar)
            for c in self.book.companies.values()
        }

    async def create_company(self, actor: Actor, fields: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(fields)
        cid = values.pop("id", None)
        if not isinstance(cid, str) or not cid or len(cid) > 64 or set(cid) - _ID_CHARS:
            raise ServiceError(
                "invalid", "field 'id': expected 1-64 characters A-Z, a-z, 0-9, '_', '.', '-'"
            )
        if "staff" in values:
            raise ServiceError("invalid", "field 'staff': add staff with POST .../staff")
        if self.book.get(cid) is not None:
            raise ServiceError("conflict", f"company {cid!r} exists already")
        config = _valid(CompanyConfig, values)
        self._check_company(cid, config)
        async with self._sessions.begin() as session:
            session.add(self._company_row(cid, config, self.now()))
        await self.reload()
        after = self.company(cid)
        await self.audit.record(actor, "company.created", cid, after=after)
        return after

    async def update_company(
        self, actor: Actor, cid: str, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        current = self.get(cid)
        if "id" in fields or "staff" in fields:
            name = "id" if "id" in fields else "staff"
            raise ServiceError("invalid", f"field {name!r}: cannot be changed here")
        before = current.as_dict(self.now(), with_staff=False)
        merged = {k: v for k, v in before.items() if k != "id"} | dict(fields)
        config = _valid(CompanyConfig, merged)
        self._check_company(cid, config)
        values = self._company_row(cid, config, self.now())
        async with self._sessions.begin() as session:
            await session.execute(
                update(CompanyRow)
                .where(CompanyRow.id == cid)
                .values(
                    name=values.name,
                    numbers=values.numbers,
                    greeting=values.greeting,
                    night_message=values.night_message,
                    calendar=values.calendar,
                    instructions=values.instructions,
                    updated_at=values.updated_at,
                )
            )
        await self.reload()
        after = self.get(cid).as_dict(self.now(), with_staff=False)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        await self.audit.record(
            actor, "company.changed", cid, before={k: before[k] for k in changed}, after=changed
        )
        return self.company(cid)

    async def delete_company(self, actor: Actor, cid: str) -> None:
        self.get(cid)
        async with self._sessions.begin() as session:
            await session.execute(delete(StaffRow).where(StaffRow.company_id == cid))
            await session.execute(delete(CompanyRow).where(CompanyRow.id == cid))
        await self.reload()
        await self.audit.record(actor, "company.deleted", cid)

    # ------------------------------------------------------------------ staff

    async def create_staff(
        self, actor: Actor, cid: str, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.get(cid)
        config = _valid(StaffConfig, fields)
        async with self._sessions.begin() as session:
            row = self._staff_row(cid, config, self.now())
            session.add(row)
            await session.flush()
            staff_id = row.id
        await self.reload()
        after = self.staff_member(cid, staff_id).as_dict(self.now())
        await self.audit.record(actor, "staff.created", f"{cid}/{staff_id}", after=after)
        return after

    async def update_staff(
        self, actor: Actor, cid: str, staff_id: int, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        current = self.staff_member(cid, staff_id)
        if "absence" in fields:
            raise ServiceError("invalid", "field 'absence': set it with PUT .../absence")
        base = {"name": current.name, "numbers": list(current.numbers), "email": current.email}
        config = _valid(StaffConfig, base | dict(fields))
        async with self._sessions.begin() as session:
            await session.execute(
                update(StaffRow)
                .where(StaffRow.id == staff_id)
                .values(
                    name=config.name,
                    numbers=list(config.numbers),
                    email=config.email,
                    updated_at=self.now(),
                )
            )
        await self.reload()
        after = self.staff_member(cid, staff_id).as_dict(self.now())
        await self.audit.record(actor, "staff.changed", f"{cid}/{staff_id}", before=base,
                                after={k: after[k] for k in base})  # fmt: skip
        return after

    async def delete_staff(self, actor: Actor, cid: str, staff_id: int) -> None:
        self.staff_member(cid, staff_id)
        async with self._sessions.begin() as session:
            await session.execute(delete(StaffRow).where(StaffRow.id == staff_id))
        await self.reload()
        await self.audit.record(actor, "staff.deleted", f"{cid}/{staff_id}")

    # ------------------------------------------------------------------ absence notes

    def locate(self, *, company: str | None, number: str | None, email: str | None) -> Staff:
        """The one staff member with that number or email (in ``company``, or any)."""
        if (number is None) == (email is None):
            raise ServiceError("invalid", "give exactly one of 'number' or 'email'")
        companies = [self.get(company)] if company is not None else self.book.companies.values()
        found = [s for c in companies if (s := find_staff(c, number=number, email=email))]
        what = f"number {number!r}" if number is not None else f"email {email!r}"
        where = f" at company {company!r}" if company is not None else ""
        if not found:
            raise ServiceError("not_found", f"no staff member with {what}{where}")
        if len(found) > 1:
            names = ", ".join(f"{s.company}/{s.id} {s.name}" for s in found)
            raise ServiceError(
                "conflict", f"{len(found)} staff members have {what} ({names}): give 'company'"
            )
        return found[0]

    async def set_absence(
        self, actor: Actor, staff: Staff, fields: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Set the note (``fields``: note, until, redirect), or clear it (None)."""
        absence = _valid(AbsenceConfig, fields) if fields is not None else None
        async with self._sessions.begin() as session:
            await session.execute(
                update(StaffRow)
                .where(StaffRow.id == staff.id)
                .values(
                    absence_note=absence.note if absence else None,
                    absence_until=absence.until if absence else None,
                    absence_redirect=absence.redirect if absence else None,
                    updated_at=self.now(),
                )
            )
        await self.reload()
        after = self.staff_member(staff.company, staff.id).as_dict(self.now())
        await self.audit.record(
            actor,
            "staff.absence_set" if absence else "staff.absence_cleared",
            f"{staff.company}/{staff.id}",
            before=staff.absence.as_dict() if staff.absence else None,
            after=after["absence"],
        )
        return after

    # ------------------------------------------------------------------ messages

    async def take_message(
        self, actor: Actor, cid: str, staff_id: int, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        company = self.get(cid)
        staff = self.staff_member(cid, staff_id)
        text = fields.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 5000:
            raise ServiceError("invalid", "field 'text': expected the message (1-5000 characters)")
        strings: dict[str, str | None] = {}
        for name in ("caller", "number", "call_id"):
            value = fields.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > 200):
                raise ServiceError("invalid", f"field {name!r}: expected a string (at most 200)")
            strings[name] = value or None
        now = self.now()
        taken_by = actor.principal.name if actor.principal is not None else None
        async with self._sessions.begin() as session:
            row = StaffMessageRow(
                company_id=cid,
                staff_id=staff.id,
                staff_name=staff.name,
                call_id=strings["call_id"],
                caller=strings["caller"],
                number=strings["number"],
                text=text.strip(),
                taken_by=taken_by,
                created_at=now,
                recipient=staff.email,
                mail_status="pending" if staff.email else "none",
            )
            session.add(row)
            await session.flush()
            message_id = row.id
        status = await self._mail(message_id, company, staff, strings, text.strip(), now,
                                  taken_by)  # fmt: skip
        self.note(
            strings["call_id"],
            "message_taken",
            {"message_id": message_id, "company": cid, "staff": staff.id,
             "staff_name": staff.name, "mail_status": status},
        )  # fmt: skip
        return await self.message(message_id)

    async def _mail(
        self,
        message_id: int,
        company: Company,
        staff: Staff,
        strings: Mapping[str, str | None],
        text: str,
        now: datetime,
        taken_by: str | None,
    ) -> str:
        if not staff.email:
            return "none"
        msg = mail.staff_message(
            sender=self.smtp.sender,
            recipient=staff.email,
            staff=staff.name,
            company=company.name,
            caller=strings["caller"],
            number=strings["number"],
            text=text,
            taken_at=now.astimezone(self.zone),
            taken_by=taken_by,
            message_id=message_id,
        )
        values: dict[str, Any]
        try:
            await self._send(self.smtp, msg)
            values = {"mail_status": "sent", "mailed_at": self.now()}
            log_event(log, "answering.message_mailed", message_id=message_id, to=staff.email)
        except (mail.MailError, OSError) as exc:
            values = {"mail_status": "failed", "mail_error": str(exc)[:1000]}
            log_event(log, "answering.message_mail_failed", level=logging.WARNING,
                      message_id=message_id, to=staff.email, error=str(exc))  # fmt: skip
        async with self._sessions.begin() as session:
            await session.execute(
                update(StaffMessageRow).where(StaffMessageRow.id == message_id).values(**values)
            )
        return str(values["mail_status"])

    async def message(self, message_id: int) -> dict[str, Any]:
        async with self._sessions() as session:
            row = await session.get(StaffMessageRow, message_id)
        if row is None:
            raise ServiceError("not_found", f"no message {message_id}")
        return _message_json(row)

    async def messages(self, cid: str, staff_id: int, limit: int = 100) -> list[dict[str, Any]]:
        self.staff_member(cid, staff_id)
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(StaffMessageRow)
                    .where(StaffMessageRow.company_id == cid, StaffMessageRow.staff_id == staff_id)
                    .order_by(StaffMessageRow.id.desc())
                    .limit(limit)
                )
            ).scalars()
            return [_message_json(r) for r in rows]
