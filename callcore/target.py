"""Where a dialled number leads, as the call core needs it (the number plan's entry)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    queue: str | None = None
    service: str | None = None  # "remote-login", "prompt-recording", "voicemail"
    agent: str | None = None  # the mailbox owner for an agent's voicemail
    ring_seconds: float = 0.0
    # A direct number (callcore.outbound): it rings this agent's devices, not a queue.
    direct: str | None = None
    calendar: str | None = None  # the direct number's own opening hours (None: always open)
    ring_timeout: float = 20.0  # how long the agent's devices ring before voicemail
    voicemail: bool = True  # no answer, busy or closed: the agent's voicemail


@dataclass(frozen=True, slots=True)
class CallbackOptions:
    """A queue's callback (SPEC S8): the key a waiting caller presses to book one."""

    key: str = "1"
    attempts: int = 3  # calls to the customer before the callback counts as failed
    retry_interval: float = 120.0  # seconds before the next attempt
    ring_timeout: float = 30.0  # how long the customer's phone rings
    offer_after: float | None = None  # offer it once the estimated wait passes this
    sms_to_phone_agents: bool = True  # agents on a phone number get the number by SMS
    when_closed: str = "hold"  # "hold" until the queue opens, or "cancel"


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """A queue's settings the call core decides with."""

    # Ask an agent reached on a phone number (tel: device) to press 1 before bridging;
    # None: on for tel: devices, off for SIP phones.
    accept_prompt: bool | None = None
    accept_timeout: float = 10.0
    queue_message: str | None = None  # the activated queue-message prompt, if any
    hold_music: str = "hold-music"
    accept_message: str = "accept-call"  # what the agent hears on the accept prompt
    survey: bool = False  # the caller is asked the NKI survey when the agent hangs up first
    callback: CallbackOptions | None = None
    # The queue's classification codes, keyed by position (1 = the first) by an agent on a
    # phone number who is still on the line when the caller hangs up. Empty: not asked.
    keypad_codes: tuple[str, ...] = ()
    keypad_timeout: float = 10.0  # seconds for the key after the question
