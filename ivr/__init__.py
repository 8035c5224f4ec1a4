"""What a caller hears and keys before the queue: flows built from steps (SPEC S2, S6, S7)."""

from .build import FlowPlan, NumberEntry, build_flow
from .callback import book_callback
from .config import FlowConfig, flow_problems, flow_prompt_uses
from .crm import CustomerLookup, NoCrm
from .flow import (
    CallerChannel,
    CustomerMatch,
    DigitResult,
    FlowServices,
    FlowState,
    Outcome,
    run_flow,
)
from .listen_voicemail import (
    ListenResult,
    ListenSettings,
    MailboxAccess,
    StoredMessage,
    listen_to_voicemail,
    listening_order,
)
from .record_prompt import Admin, UnusableRecording, record_prompt_by_phone
from .recording import Recording
from .steps import (
    DEFAULT_STEPS,
    CalendarCheck,
    CustomerNumber,
    MenuChoice,
    calendar_check,
    closed_message,
    hot_prompt,
    to_queue,
    voicemail,
    welcome,
)
from .survey import SurveyAnswer, SurveySettings, run_survey
from .voicemail import VoicemailSettings, leave_voicemail

__all__ = [
    "ListenResult",
    "ListenSettings",
    "MailboxAccess",
    "StoredMessage",
    "listen_to_voicemail",
    "listening_order",
    "book_callback",
    "SurveyAnswer",
    "SurveySettings",
    "run_survey",
    "Admin",
    "UnusableRecording",
    "record_prompt_by_phone",
    "Recording",
    "VoicemailSettings",
    "leave_voicemail",
    "DEFAULT_STEPS",
    "CalendarCheck",
    "CallerChannel",
    "CustomerLookup",
    "CustomerMatch",
    "CustomerNumber",
    "DigitResult",
    "FlowConfig",
    "FlowPlan",
    "FlowServices",
    "FlowState",
    "MenuChoice",
    "NoCrm",
    "NumberEntry",
    "Outcome",
    "build_flow",
    "calendar_check",
    "closed_message",
    "flow_problems",
    "flow_prompt_uses",
    "hot_prompt",
    "run_flow",
    "to_queue",
    "voicemail",
    "welcome",
]
