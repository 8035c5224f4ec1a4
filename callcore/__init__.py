"""The call core (sans-IO): each inbound call's path from INVITE to the call-log summary.

Events and ``now`` in, actions and the next deadline out; the asyncio executor in
``vaxel/calls/controller.py`` carries the actions out. Imports nothing of ``vaxel/``.
"""

from . import actions, events, transfer
from .core import ACCEPT_KEY, ACK_TIMEOUT, CUSTOMER, HANGUP_GRACE, CallCore
from .outbound import CallKind, OutboundPolicy, Placement, Refusal, decide
from .state import Callback, CallState, Offer, OfferPhase, PendingCallback, Phase
from .target import CallbackOptions, QueueOptions, Target
from .transfer import AgentControl, ControlResult, TransferOptions, TransferTarget, Via

__all__ = [
    "ACCEPT_KEY",
    "ACK_TIMEOUT",
    "AgentControl",
    "ControlResult",
    "TransferOptions",
    "TransferTarget",
    "Via",
    "CUSTOMER",
    "Callback",
    "CallbackOptions",
    "HANGUP_GRACE",
    "CallCore",
    "CallKind",
    "OutboundPolicy",
    "Placement",
    "Refusal",
    "decide",
    "CallState",
    "Offer",
    "OfferPhase",
    "PendingCallback",
    "Phase",
    "QueueOptions",
    "Target",
    "actions",
    "events",
    "transfer",
]
