"""Database tables. The call log (``call_events``) is the source of truth; ``calls`` is a
per-call summary derived from it when the call ends, kept for fast queries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


@overload
def as_utc(at: datetime) -> datetime: ...
@overload
def as_utc(at: None) -> None: ...
def as_utc(at: datetime | None) -> datetime | None:
    """A time read from a row, made aware: SQLite hands timestamps back naive, and
    everything Vaxel writes is UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


class CallEvent(Base):
    """One step of one call: arrived, queued, offered, answered, ended ..."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    a_number: Mapped[str | None] = mapped_column(String(64))
    b_number: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict | None] = mapped_column(JSON)


class CallRecord(Base):
    """Summary of a finished call, written in the same transaction as its last event."""

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    a_number: Mapped[str | None] = mapped_column(String(64))
    b_number: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    mos: Mapped[float | None] = mapped_column(Float)
    quality: Mapped[dict | None] = mapped_column(JSON)
    ended_by: Mapped[str | None] = mapped_column(String(16))


class PromptRow(Base):
    __tablename__ = "prompts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    wording: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    duration: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # standard, upload, phone


class VoicemailRow(Base):
    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128))
    queue: Mapped[str | None] = mapped_column(String(64))
    a_number: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512))
    duration: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    emailed_to: Mapped[str | None] = mapped_column(String(256))  # set once a mail went out
    b_number: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64))
    recipient: Mapped[str | None] = mapped_column(String(256))
    # "none" (no address), "pending" (being sent or retried), "sent", "failed" (gave up)
    mail_status: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    mail_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mail_error: Mapped[str | None] = mapped_column(Text)
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When an agent first heard it by phone (voicemail-listen): new until then.
    heard_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    """Someone who signs in to the API (docs/access.md); seeded from ``[users]``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    statistics: Mapped[bool | None] = mapped_column(Boolean)
    password_hash: Mapped[str] = mapped_column(Text)
    # OpenSSH public key lines that may sign in to the console as this user.
    ssh_keys: Mapped[list | None] = mapped_column(JSON)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TokenRow(Base):
    """A session token (from a password login; expires) or a user's API token (automation).
    Only the SHA-256 of the token is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # session, api
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # None: the token acts as its user; "absence": it may only set absence notes.
    scope: Mapped[str | None] = mapped_column(String(32))


class AuditRow(Base):
    """One administrative change: who, through which door and from where, what, before and
    after, when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str | None] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(8))  # api, ssh, web
    source: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(256))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class LiveStateRow(Base):
    """State that must survive a restart: a user's SIP bindings, an agent's login."""

    __tablename__ = "live_state"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # sip_bindings, agent_login
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    data: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginScheduleRow(Base):
    """A scheduled login: the agent logged in every day of the interval, start to end."""

    __tablename__ = "login_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))  # HH:MM, wall clock in ``zone``
    end: Mapped[str] = mapped_column(String(5))
    zone: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(128))


class ReportSubscriptionRow(Base):
    """A report mailed periodically to one address (SPEC S12)."""

    __tablename__ = "report_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(254))
    report: Mapped[str] = mapped_column(String(32))  # reports.ReportKind
    periodicity: Mapped[str] = mapped_column(String(16))  # daily, weekly, monthly
    time_zone: Mapped[str] = mapped_column(String(64))
    queues: Mapped[list | None] = mapped_column(JSON)
    agents: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportSendRow(Base):
    """One period's report of one subscription: written *before* the mail is handed to the
    SMTP server and updated after, so that no period is mailed twice."""

    __tablename__ = "report_sends"
    __table_args__ = (UniqueConstraint("subscription_id", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("report_subscriptions.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # pending (due, not yet tried or waiting for a retry), sending (handed to SMTP now),
    # sent, failed (gave up), unknown (the server stopped while sending: never resent)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CallbackRow(Base):
    """A pending callback: the next attempt (now, or at ``next_at``); deleted once the
    customer was reached or the callback failed."""

    __tablename__ = "callbacks"

    origin: Mapped[str] = mapped_column(String(128), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64))
    b_number: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(Integer)
    arrived_at: Mapped[float] = mapped_column(Float)
    attempt: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index("ix_call_events_call_at", CallEvent.call_id, CallEvent.at)


class ReportPieceRow(Base):
    """One finished day's report figures in one zone and interval length (reports.Piece
    as JSON), kept so that a month report sums days instead of recounting the call log.
    ``rules`` identifies the queues' thresholds the figures were computed with."""

    __tablename__ = "report_pieces"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, local
    rules: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConfigDocumentRow(Base):
    """One administered entity (a queue, an agent, a number ...) as the JSON document its
    configuration model validates; ``version`` grows with each change (the API's ETag).
    One table for every kind: the models in config/ own the fields, so a new setting
    needs no migration, and the whole configuration is validated together anyway."""

    __tablename__ = "config_documents"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # the TOML section
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[Any] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CompanyRow(Base):
    """A company of the answering service (docs/answering.md); seeded from ``[companies]``."""

    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    numbers: Mapped[list[str]] = mapped_column(JSON)
    greeting: Mapped[str] = mapped_column(String(64))
    night_message: Mapped[str] = mapped_column(String(64))
    calendar: Mapped[str | None] = mapped_column(String(64))
    instructions: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffRow(Base):
    """A person at a company, with their absence note (hänvisning) if any."""

    __tablename__ = "company_staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    numbers: Mapped[list[str]] = mapped_column(JSON)
    email: Mapped[str | None] = mapped_column(String(254))
    absence_note: Mapped[str | None] = mapped_column(Text)
    absence_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    absence_redirect: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffMessageRow(Base):
    """A message an agent took for a staff member, and whether its mail went out. Kept when
    the staff member is deleted (names are copied)."""

    __tablename__ = "staff_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64), index=True)
    staff_id: Mapped[int] = mapped_column(Integer)
    staff_name: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[str | None] = mapped_column(String(128))
    caller: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    taken_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipient: Mapped[str | None] = mapped_column(String(254))
    mail_status: Mapped[str] = mapped_column(String(16))  # none, sent, failed
    mail_error: Mapped[str | None] = mapped_column(Text)
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
