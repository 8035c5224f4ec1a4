"""The application-service layer: operations every front door (HTTP, SSH, web) shares."""

from .live_figures import LiveFigures
from .report_centre import ReportCentre
from .report_subscriptions import ReportScheduler, Send, Subscription, SubscriptionStore
from .reports import ReportService

__all__ = [
    "LiveFigures",
    "ReportCentre",
    "ReportScheduler",
    "ReportService",
    "Send",
    "Subscription",
    "SubscriptionStore",
]
