"""Automatic call distribution: queues, answer groups, agents (SPEC S3-S5).

A pure core: events in (with ``now``), commands out.  It imports nothing from
``sip/`` or ``media/``; the composition root carries the commands out and
re-arms one timer from :meth:`Acd.next_deadline`.
"""

from acd.commands import (
    AgentLoggedOut,
    AgentStateChanged,
    AnnouncePosition,
    CancelOffer,
    Command,
    LogEvent,
    OfferCall,
    Overflow,
)
from acd.core import Acd, AgentView, CallView
from acd.errors import AcdConfigError, AcdError
from acd.ewt import AhtTracker, estimated_wait, new_caller_wait
from acd.model import (
    AgentConfig,
    AgentState,
    AnswerGroup,
    Call,
    Channel,
    GroupMembership,
    QueueConfig,
    Strategy,
)
from acd.schedule import (
    LoginSchedule,
    ScheduleError,
    StaffingRow,
    Transition,
    active,
    check_delete,
    check_new,
    next_transition,
    staffing,
)

from .calendar import Calendar, CalendarConfig, CalendarDecision, CalendarSet, DeviationConfig
from .remote_login import decide_remote_login, normalize_number

__all__ = [
    "LoginSchedule",
    "ScheduleError",
    "StaffingRow",
    "Transition",
    "active",
    "check_delete",
    "check_new",
    "next_transition",
    "staffing",
    "Calendar",
    "CalendarConfig",
    "DeviationConfig",
    "CalendarDecision",
    "CalendarSet",
    "decide_remote_login",
    "normalize_number",
    "Acd",
    "AcdConfigError",
    "AcdError",
    "AgentConfig",
    "AgentLoggedOut",
    "AgentState",
    "AgentStateChanged",
    "AgentView",
    "AhtTracker",
    "AnnouncePosition",
    "AnswerGroup",
    "Call",
    "CallView",
    "CancelOffer",
    "Channel",
    "Command",
    "GroupMembership",
    "LogEvent",
    "OfferCall",
    "Overflow",
    "QueueConfig",
    "Strategy",
    "estimated_wait",
    "new_caller_wait",
]
