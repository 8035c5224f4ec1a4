"""Persistence: SQLAlchemy models, engine set-up, migrations and the call log writer."""

from .calllog import CallLog, CallLogEvent, CallSummary
from .database import create_engine, migrate, sessionmaker

__all__ = ["CallLog", "CallLogEvent", "CallSummary", "create_engine", "migrate", "sessionmaker"]
