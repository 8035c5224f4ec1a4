"""The application-service layer: operations every front door (HTTP, SSH, web) shares."""

from .agents import AgentService
from .audit import Actor, AuditEntry, AuditLog
from .call_control import CallControlService
from .callbacks import CallbackBoard
from .dialling import DialService
from .errors import ServiceError
from .live_figures import LiveFigures
from .report_centre import ReportCentre
from .report_subscriptions import ReportScheduler, Send, Subscription, SubscriptionStore
from .reports import ReportService
from .users import UserService

__all__ = [
    "Actor",
    "AgentService",
    "AuditEntry",
    "AuditLog",
    "CallbackBoard",
    "DialService",
    "CallControlService",
    "LiveFigures",
    "ReportCentre",
    "ReportScheduler",
    "ReportService",
    "Send",
    "ServiceError",
    "Subscription",
    "SubscriptionStore",
    "UserService",
]
