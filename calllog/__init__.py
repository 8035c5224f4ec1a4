"""The call log's domain (samtalslogg, SPEC S12): one event type, its kinds, and the call
summary computed from a call's events. Pure: no storage, no clock; the one writer lives in
``vaxel/storage/calllog.py`` and everything that happens to a call reaches it as these
events (from the call core and the ACD)."""

from .event import AGENT_CALL_ID, CallEvent, jsonable
from .kinds import TERMINAL_KINDS, EventKind, Outcome
from .recovery import close_interrupted
from .summary import CallSummary, SummaryFold, summarize

__all__ = [
    "AGENT_CALL_ID",
    "TERMINAL_KINDS",
    "CallEvent",
    "CallSummary",
    "EventKind",
    "Outcome",
    "SummaryFold",
    "close_interrupted",
    "jsonable",
    "summarize",
]
