"""Every kind of call-log event, and the outcomes a call's summary can have."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    # The call core: a call's own path.
    INCOMING = "incoming"
    HOT_PROMPT = "hot_prompt"
    CLOSED = "closed"
    MENU = "menu"
    MENU_CHOICE = "menu_choice"
    MENU_INVALID = "menu_invalid"
    MENU_NO_CHOICE = "menu_no_choice"
    CUSTOMER_NUMBER = "customer_number"
    FLOW_JUMP = "flow_jump"
    FLOW_JUMPS_EXCEEDED = "flow_jumps_exceeded"
    PROMPT_MISSING = "prompt_missing"
    ANNOUNCED = "announced"
    SERVICE_UNAVAILABLE = "service_unavailable"
    REMOTE_LOGIN = "remote_login"
    OVERFLOW_ROUTED = "overflow_routed"
    AGENT_ACCEPT_PROMPT = "agent_accept_prompt"
    AGENT_DECLINED = "agent_declined"
    BRIDGED = "bridged"
    SURVEY_STARTED = "survey_started"
    SURVEY_ANSWER = "survey_answer"  # data: position, question, answer (1-5, None: skipped)
    CALLBACK_BOOKING = "callback_booking"
    CALLBACK_REQUESTED = "callback_requested"  # data: number, callback (first attempt's id)
    CALLBACK_ATTEMPT = "callback_attempt"  # data: origin, number, attempt
    CALLBACK_CONNECTED = "callback_connected"
    CALLBACK_SMS_SENT = "callback_sms_sent"  # the number went to a phone agent by SMS
    CALLBACK_RETRY = "callback_retry"  # data: attempt, reason, next_at
    CALLBACK_FAILED = "callback_failed"  # data: attempts, reason
    CALLBACK_HELD = "callback_held"  # the queue is closed: data until (when it opens)
    CALLBACK_CANCELLED = "callback_cancelled"  # the queue is closed and cancels them
    # Outbound calls (an agent's phone or click-to-call) and direct numbers: not queue
    # calls, so never "offered" to a queue (docs/statistics.md).
    OUTBOUND_PLACED = "outbound_placed"  # data: number, caller_id, via ("phone" | "api")
    OUTBOUND_REFUSED = "outbound_refused"  # data: number, reason (the policy said no)
    OUTBOUND_ANSWERED = "outbound_answered"  # the customer answered: talk starts
    OUTBOUND_FAILED = "outbound_failed"  # data: reason, status (busy, no answer, 4xx ...)
    OUTBOUND_ENDED = "outbound_ended"  # data: talk, ended_by
    DIRECT_OFFERED = "direct_offered"  # a direct number rings its agent; data: devices
    DIRECT_ANSWERED = "direct_answered"
    DIRECT_MISSED = "direct_missed"  # data: why ("no answer", "busy", "closed", ...)
    DIRECT_ENDED = "direct_ended"  # data: talk
    # Hold and transfers (callcore.transfer); ``agent`` is the agent passing the call on.
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER_REQUESTED = "transfer_requested"  # data: to, target_kind, via (api/refer/phone)
    TRANSFER_STARTED = "transfer_started"  # the target rings, or the caller enters its queue
    TRANSFER_FAILED = "transfer_failed"  # data: to, reason, status
    TRANSFER_RETURNED = "transfer_returned"  # the caller is back with the agent (or queue)
    TRANSFER_COMPLETED = "transfer_completed"  # data: to, target_kind, to_agent, attended
    CONSULT_STARTED = "consult_started"  # the consulted party rings; the caller on hold
    CONSULT_CONNECTED = "consult_connected"
    CONSULT_TOGGLED = "consult_toggled"  # data: talking_to ("caller" or "consult")
    CONSULT_ENDED = "consult_ended"  # data: reason (transferred, cancelled, failed ...)
    HANGUP = "hangup"  # the last event of every call: the summary is made from here
    # The recording services.
    PIN = "pin"
    RECORDING = "recording"
    PROMPT_RECORDING_ADMIN = "prompt_recording_admin"
    PROMPT_RECORDING_REFUSED = "prompt_recording_refused"
    PROMPT_RECORDING_SAVED = "prompt_recording_saved"
    PROMPT_RECORDING_EMPTY = "prompt_recording_empty"
    PROMPT_RECORDING_UNUSABLE = "prompt_recording_unusable"
    PROMPT_RECORDING_ABANDONED = "prompt_recording_abandoned"
    PROMPT_RECORDING_HANGUP = "prompt_recording_hangup"
    PROMPT_RECORDING_PIN_WRONG = "prompt_recording_pin_wrong"
    VOICEMAIL_STORED = "voicemail_stored"
    VOICEMAIL_EMPTY = "voicemail_empty"
    VOICEMAIL_NO_MAILBOX = "voicemail_no_mailbox"
    # Voicemail by phone (an agent listens to their mailboxes).
    VOICEMAIL_LISTEN_LOGIN = "voicemail_listen_login"  # data: agent, by (caller id / pin)
    VOICEMAIL_LISTEN_PIN_WRONG = "voicemail_listen_pin_wrong"
    VOICEMAIL_LISTEN_REFUSED = "voicemail_listen_refused"
    VOICEMAIL_LISTEN = "voicemail_listen"  # data: agent, new, old
    VOICEMAIL_DELETED = "voicemail_deleted"  # data: agent, voicemail_id
    VOICEMAIL_KEPT = "voicemail_kept"
    # The answering service.
    COMPANY = "company"  # the call is for this company (data: company, name)
    MESSAGE_TAKEN = "message_taken"  # data: message_id, company, staff, mail_status
    # The ACD: queueing and distribution.
    ARRIVED = "arrived"
    QUEUED = "queued"
    OFFERED = "offered"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    OFFER_FAILED = "offer_failed"
    OFFER_CANCELLED = "offer_cancelled"
    ANSWERED = "answered"
    LATE_ANSWER = "late_answer"
    STALE_OFFER_RESPONSE = "stale_offer_response"
    OVERFLOWED = "overflowed"
    OVERFLOW_SKIPPED = "overflow_skipped"
    WITHDRAWN = "withdrawn"  # left the queue for a callback that keeps its place
    ABANDONED = "abandoned"
    ENDED = "ended"
    # The ACD: agent states (S4), for agent statistics.
    LOGIN = "login"
    LOGOUT = "logout"
    LOGOUT_PENDING = "logout_pending"
    PAUSE = "pause"
    PAUSE_PENDING = "pause_pending"
    READY = "ready"
    WRAP_UP_STARTED = "wrap_up_started"
    WRAP_UP_ENDED = "wrap_up_ended"
    CLASSIFIED = "classified"
    CLASSIFICATION_MISSING = "classification_missing"


# Events after which a call has nothing more to log: its summary is due.
TERMINAL_KINDS = frozenset({EventKind.HANGUP})


class Outcome(StrEnum):
    """How a call ended, as its summary says."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"  # hung up in the queue or while an agent's phone rang
    CLOSED = "closed"
    VOICEMAIL = "voicemail"
    IVR = "ivr"  # hung up (or was hung up) before reaching the queue
    OVERFLOWED = "overflowed"  # left the ACD for a target outside it
    CALLBACK_REQUESTED = "callback_requested"  # the caller booked a callback and hung up
    CALLBACK = "callback"  # a callback attempt (its own call in the log)
    REMOTE_LOGIN = "remote_login"
    PROMPT_RECORDING = "prompt_recording"
    VOICEMAIL_LISTEN = "voicemail_listen"  # an agent listened to their voicemail by phone
    SERVICE_UNAVAILABLE = "service_unavailable"
    REJECTED = "rejected"  # refused before answer (no common codec, bad SDP)
    CANCELLED = "cancelled"  # the caller gave up before the answer
    NO_ACK = "no_ack"
    SHUTDOWN = "shutdown"  # the server was stopped (SIGTERM) while the call was live
    SERVER_STOPPED = "server_stopped"  # found live at the next start: the process died
    ERROR = "error"
    OUTBOUND = "outbound"  # an outbound call the customer answered
    OUTBOUND_FAILED = "outbound_failed"  # refused, or the customer was not reached
    DIRECT = "direct"  # a direct number's call its agent answered
