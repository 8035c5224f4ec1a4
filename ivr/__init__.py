"""What a caller hears and keys before the queue: flows built from steps (SPEC S2, S6, S7)."""

from .flow import (
    CallerChannel,
    CustomerMatch,
    DigitResult,
    FlowServices,
    FlowState,
    Outcome,
    run_flow,
)
from .steps import DEFAULT_STEPS, CustomerNumber, MenuChoice, calendar_check, hot_prompt, welcome

__all__ = [
    "DEFAULT_STEPS",
    "CallerChannel",
    "CustomerMatch",
    "CustomerNumber",
    "DigitResult",
    "FlowServices",
    "FlowState",
    "MenuChoice",
    "Outcome",
    "calendar_check",
    "hot_prompt",
    "run_flow",
    "welcome",
]
