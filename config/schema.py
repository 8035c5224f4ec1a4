"""Typed configuration: what a Vaxel TOML file may contain.

Every model forbids unknown keys so a typo is an error, not a silently ignored
setting. Cross-references (number plan -> queue, queue -> answer group ...) are
checked in ``VaxelConfig`` after the fields themselves are valid.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from acd import CalendarConfig
from answering import CompanyConfig, company_problems
from ivr import FlowConfig, VoicemailSettings, flow_problems, flow_prompt_uses
from prompts import can_exist

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(ge=0)]
PhoneNumber = Annotated[str, Field(pattern=r"^\+?[0-9*#]{1,32}$")]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
# Deliberately loose (local@domain, no spaces): the mail server has the last word.
EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    name: str = "Vaxel"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    data_dir: str = "var"
    language: Literal["sv", "en"] = "sv"
    time_zone: str = "Europe/Stockholm"


class DatabaseConfig(_Strict):
    # Relative SQLite paths are resolved against server.data_dir's parent (the working dir).
    url: str = "sqlite+aiosqlite:///var/vaxel.db"

    @model_validator(mode="after")
    def _known_driver(self) -> DatabaseConfig:
        if not re.match(r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://", self.url):
            raise ValueError(
                "url must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {self.url.split('://')[0]!r})"
            )
        return self


Transport = Literal["udp", "tcp"]
TrunkTransport = Literal["udp", "tcp", "tls"]
DigestAlgorithm = Literal["MD5", "SHA-256", "SHA-512-256"]


def _default_transports() -> list[Transport]:
    return ["udp", "tcp"]


def _default_digest_algorithms() -> list[DigestAlgorithm]:
    return ["MD5"]


class SipTlsConfig(_Strict):
    """SIP over TLS (RFC 3261 section 26, docs/security.md): a second listener, for phones
    and trunks. Relative file paths are taken from the server's working directory; the
    files themselves are read (and checked) by ``vaxel check-config`` and at start."""

    enabled: bool = False
    port: Port = 5061
    # PEM files: our certificate (chain) and its private key.
    certificate: str | None = None
    key: str | None = None
    # CA certificates (PEM) that sign the trunks' certificates; none: the system's CAs.
    ca: str | None = None
    # Check the certificate and host name of the trunks we connect to over TLS.
    verify_trunks: bool = True
    # Seconds a TLS handshake may take before the connection is closed.
    handshake_timeout: Annotated[float, Field(gt=0, le=600)] = 10.0

    @model_validator(mode="after")
    def _files(self) -> SipTlsConfig:
        if self.enabled:
            missing = [n for n in ("certificate", "key") if not getattr(self, n)]
            if missing:
                raise ConfigReferenceError(
                    [(f"sip.tls.{n}", "required when sip.tls.enabled is true") for n in missing]
                )
        return self


class SipConfig(_Strict):
    host: str = "127.0.0.1"
    port: Port = 5060
    # How long an answered call waits for the caller's ACK before its RTP ports are given
    # back (the 200 OK itself is retransmitted up to 32 s by the transaction layer): an
    # INVITE that is never acknowledged must not hold media resources for long.
    ack_timeout: Annotated[float, Field(ge=1, le=32)] = 8.0
    transports: list[Transport] = Field(default_factory=_default_transports)
    # Host part agents register under and the digest realm they see.
    domain: str = "127.0.0.1"
    realm: str = "vaxel"
    # Address put in Contact/Via/SDP when it differs from the bind address (NAT).
    advertised_host: str | None = None
    # Digest challenge algorithms, in the order offered. MD5 alone by default: common
    # softphones (baresip 1.0, SIPp 3.6) fail when a SHA-256 challenge is present at all.
    digest_algorithms: list[DigestAlgorithm] = Field(
        default_factory=_default_digest_algorithms, min_length=1
    )
    tls: SipTlsConfig = Field(default_factory=SipTlsConfig)

    @model_validator(mode="after")
    def _tls_port(self) -> SipConfig:
        if self.tls.enabled and self.tls.port == self.port:
            raise ConfigReferenceError(
                [("sip.tls.port", f"must differ from sip.port ({self.port}: TCP listens there)")]
            )
        return self


class RtpConfig(_Strict):
    host: str = "127.0.0.1"
    port_min: Port = 20000
    port_max: Port = 20999
    # Seconds without RTP before a leg reports the peer as silent.
    no_rtp_timeout: Seconds = 30.0
    # Voice quality (docs/mos.md): a leg whose interval MOS falls below mos_warning raises a
    # call_quality_warning event; an estimate is made every mos_interval seconds over the
    # last two intervals. mos_plc: whether the endpoint that plays a leg's audio conceals lost
    # G.711 packets: "auto" decides per leg from its User-Agent and SDP, with a calibrated
    # default that it does (media/concealment.py); true / false force it.
    mos_warning: Annotated[float, Field(ge=1.0, le=4.5)] = 3.1
    mos_interval: Annotated[float, Field(ge=0.5, le=60.0)] = 5.0
    mos_plc: bool | Literal["auto"] = "auto"
    # SRTP keyed in the SDP (SDES, RFC 4568) for callers that offer it (RTP/SAVP with
    # a=crypto); false: such offers get 488 (plain RTP/AVP offers are never affected).
    srtp: bool = True

    @model_validator(mode="after")
    def _range(self) -> RtpConfig:
        if self.port_max - self.port_min < 3:
            raise ValueError("port_max must be at least port_min + 3 (one RTP/RTCP pair)")
        return self


class HttpConfig(_Strict):
    host: str = "127.0.0.1"
    port: Port = 8080


# The placeholders a screen-pop URL may carry (docs/web.md, "Screen pop").
SCREEN_POP_PLACEHOLDERS = ("ANO", "AID", "CUSTID", "QUEUE", "NAME", "COMP")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class ScreenPopConfig(_Strict):
    """The page the agent client opens with an offered call: a URL template whose
    ``{ANO}``, ``{AID}`` ... are filled in (URL-encoded) for that call."""

    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)]
    # "tab": a new browser tab per call; "frame": shown inside the agent page.
    open: Literal["tab", "frame"] = "tab"

    @field_validator("url")
    @classmethod
    def _known_placeholders(cls, url: str) -> str:
        unknown = [n for n in _PLACEHOLDER.findall(url) if n not in SCREEN_POP_PLACEHOLDERS]
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)} "
                f"(known: {', '.join('{' + n + '}' for n in SCREEN_POP_PLACEHOLDERS)})"
            )
        if "{" in _PLACEHOLDER.sub("", url) or "}" in _PLACEHOLDER.sub("", url):
            raise ValueError("unbalanced { or } (placeholders look like {ANO})")
        return url


class WebConfig(_Strict):
    """The agent client's connection (docs/web.md, "When the connection is lost")."""

    # An agent logged in from the agent client is logged out once no client of theirs has
    # been connected this long; a reconnect inside it keeps the state. 0: never.
    client_grace_seconds: Annotated[float, Field(ge=0, le=3600)] = 60.0


class SshConfig(_Strict):
    """The SSH console (docs/operations.md, "Console (SSH)"): admins and managers sign in
    with their password or a key from ``[users.NAME] ssh_keys``."""

    # Strict: "yes" or 1 is a typo here, not a way to say true.
    enabled: Annotated[bool, Field(strict=True)] = False
    host: str = Field(default="127.0.0.1", min_length=1)
    port: Port = 2222
    # The server's own key; generated (ed25519) on first start if the file is missing.
    # Relative paths are taken under server.data_dir. Default: <data_dir>/ssh_host_ed25519_key.
    host_key_path: Annotated[str, Field(min_length=1)] | None = None


_SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


def ssh_public_key_problem(line: str) -> str | None:
    """What is wrong with an OpenSSH public key line ("TYPE BASE64 [comment]"), or None."""
    import base64
    import binascii

    parts = line.split()
    if len(parts) < 2:
        return "expected an OpenSSH public key line: TYPE BASE64 [comment] (the .pub file)"
    kind, blob = parts[0], parts[1]
    if kind not in _SSH_KEY_TYPES:
        return f"unknown key type {kind!r} (expected one of {', '.join(_SSH_KEY_TYPES)})"
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return f"the key data after {kind!r} is not base64"
    size = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
    if size < 0 or raw[4 : 4 + size].decode("ascii", "replace") != kind:
        return f"the key data does not hold a {kind!r} key (a truncated or mixed-up line?)"
    return None


class ApiConfig(_Strict):
    # Tokens that act as an admin (automation, the demo); users have their own (docs/access.md).
    tokens: list[Annotated[str, Field(min_length=8)]] = Field(min_length=1)
    # A session token from POST /api/login is valid this long (default 8 hours).
    session_seconds: Annotated[float, Field(ge=60, le=30 * 86400)] = 8 * 3600.0
    # This many wrong passwords in a row lock the account for lockout_seconds.
    lockout_failures: Annotated[int, Field(ge=1, le=100)] = 5
    lockout_seconds: Annotated[float, Field(ge=1, le=86400)] = 900.0


class UserConfig(_Strict):
    """A user seeded into an empty database: who may sign in to the API (docs/access.md).

    Give ``password`` (hashed when it is stored) or ``password_hash`` (an argon2 hash, e.g.
    from ``vaxel hash-password``). ``agent``: the agent id the user works as (required for
    the agent role). ``statistics``: grant or withhold the statistics permission (default:
    managers and admins have it, agents not).
    """

    role: Literal["admin", "manager", "agent"]
    password: Annotated[str, Field(min_length=8, max_length=1024)] | None = None
    password_hash: Annotated[str, Field(pattern=r"^\$argon2(id|i|d)\$")] | None = None
    agent: Identifier | None = None
    email: EmailAddress | None = None
    statistics: bool | None = None
    # Public keys that may sign in to the SSH console as this user (OpenSSH .pub lines).
    ssh_keys: list[str] = Field(default_factory=list)

    @field_validator("ssh_keys")
    @classmethod
    def _ssh_keys(cls, keys: list[str]) -> list[str]:
        for i, key in enumerate(keys):
            problem = ssh_public_key_problem(key)
            if problem is not None:
                raise ValueError(f"key {i + 1} ({key[:24]!r}...): {problem}")
        return [" ".join(k.split()) for k in keys]

    @model_validator(mode="after")
    def _credentials(self) -> UserConfig:
        if (self.password is None) == (self.password_hash is None):
            raise ValueError("give exactly one of 'password' or 'password_hash'")
        if self.role == "agent" and self.agent is None:
            raise ValueError("role 'agent' needs 'agent' (the agent id this user works as)")
        return self


class NumberTarget(_Strict):
    """One entry of the number plan: a dialled number leads to a queue or a service.

    Voicemail belongs to a queue or an agent: ``{ service = "voicemail", queue = "support" }``
    mails to the queue's ``voicemail_email``, ``agent = "1001"`` to that agent's ``email``.
    """

    queue: Identifier | None = None
    # "voicemail-listen": agents listen to their mailboxes by phone (docs/answering.md).
    service: Literal["remote-login", "prompt-recording", "voicemail", "voicemail-listen"] | None = (
        None
    )
    agent: Identifier | None = None
    language: Literal["sv", "en"] | None = None
    # Ring (180) this long before answering; 0 answers at once.
    ring_seconds: Annotated[float, Field(ge=0, le=60)] = 0.0
    # The IVR flow callers of this number pass (flows.ID); default: the queue's flow.
    flow: Identifier | None = None
    # A direct number: rings this agent's devices (agents.ID), not a queue.
    direct: Identifier | None = None
    calendar: Identifier | None = None  # the direct number's opening hours (calendars.ID)
    ring_timeout: Annotated[float, Field(ge=5, le=120)] = 20.0  # then voicemail
    voicemail: bool = True  # no answer, busy or closed: the agent's voicemail
    closed_prompt: str | None = None  # what a caller hears while closed (default "closed")

    @model_validator(mode="after")
    def _direct_only(self) -> NumberTarget:
        if self.direct is None:
            for name in ("calendar", "closed_prompt"):
                if getattr(self, name) is not None:
                    raise ValueError(f"'{name}' is only for a direct number (direct = AGENT)")
            return self
        for name in ("queue", "service", "agent", "flow"):
            if getattr(self, name) is not None:
                raise ValueError(f"'{name}' cannot be given with 'direct' (one agent's number)")
        if self.ring_seconds:
            raise ValueError(
                "'ring_seconds' is for queue numbers: a direct number rings its agent at once "
                "(for at most 'ring_timeout' seconds)"
            )
        return self

    @model_validator(mode="after")
    def _one_target(self) -> NumberTarget:
        if self.direct is not None:
            return self
        if self.service == "voicemail":
            if (self.queue is None) == (self.agent is None):
                raise ValueError("voicemail: give exactly one of 'queue' or 'agent' (the mailbox)")
            if self.flow is not None:
                raise ValueError("'flow' needs a queue target (a service runs no flow)")
            return self
        if self.agent is not None:
            raise ValueError("'agent' is only for service = \"voicemail\"")
        if (self.queue is None) == (self.service is None):
            raise ValueError("give exactly one of 'queue' or 'service' (or 'direct' = AGENT)")
        if self.flow is not None and self.queue is None:
            raise ValueError("'flow' needs a 'queue' target (a service runs no flow)")
        return self


class AnswerGroupConfig(_Strict):
    name: str | None = None


class ClassificationProfileConfig(_Strict):
    """Codes an agent gives each answered call of a queue (after the call, in wrap-up).
    Agents on a phone number key the code's position (1 for the first code ...)."""

    name: str | None = None
    codes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=9
    )
    required: bool = True  # wrap-up waits for a code (at most classification_timeout)
    # Agents on a phone number still on the line when the caller hangs up are asked for
    # the code by keypad (the code's position); False: they give it through the API only.
    keypad: bool = True
    keypad_timeout: Annotated[float, Field(gt=0, le=60)] = 10.0

    @model_validator(mode="after")
    def _unique(self) -> ClassificationProfileConfig:
        seen = {c for c in self.codes if self.codes.count(c) > 1}
        if seen:
            raise ValueError(f"codes: {', '.join(sorted(seen))} given more than once")
        return self


class CallbackConfig(_Strict):
    """Callback (SPEC S8): a waiting caller presses ``key`` and is called back instead,
    keeping the place in the queue."""

    key: Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"] = "1"
    # Offer it in the position announcement once the estimated wait passes this (seconds).
    offer_after: Annotated[float, Field(gt=0)] | None = None
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    retry_interval: Annotated[float, Field(ge=10, le=86400)] = 120.0
    ring_timeout: Annotated[float, Field(ge=5, le=120)] = 30.0
    # An agent reached on a phone number gets the customer's number by SMS and calls
    # back themselves, instead of being called first and bridged.
    sms_to_phone_agents: bool = True
    # While the queue is closed (its calendar): "hold" its callbacks until it opens, or
    # "cancel" them.
    when_closed: Literal["hold", "cancel"] = "hold"


class SurveyConfig(_Strict):
    """The keypad satisfaction survey (NKI) a caller hears when the agent hangs up first."""

    questions: list[str] = Field(min_length=1, max_length=10)  # prompt names, in order
    welcome: str = "survey-welcome"
    closing: str = "survey-thanks"
    invalid: str = "survey-invalid"
    answer_timeout: Annotated[float, Field(ge=1, le=30)] = 6.0
    max_repeats: Annotated[int, Field(ge=0, le=5)] = 2


class QueueConfig(_Strict):
    name: str | None = None
    answer_groups: list[Identifier] = Field(min_length=1)
    priority: Annotated[int, Field(ge=0, le=100)] = 0
    strategy: Literal["longest-idle", "round-robin", "fewest-calls", "ordered", "ring-all"] = (
        "longest-idle"
    )
    ring_timeout: Annotated[float, Field(gt=0, le=600)] = 20.0
    wrap_up: Seconds = 10.0
    service_level_seconds: Annotated[float, Field(gt=0)] = 20.0
    max_wait: Seconds | None = None
    max_length: Annotated[int, Field(ge=1)] | None = None
    overflow_queue: Identifier | None = None
    overflow_when_no_agents: bool = False
    announce_interval: Seconds = 60.0
    # Seconds before an agent whose phone failed at once (404, unreachable) is offered the
    # same call again; other agents may take it meanwhile. Without it one dead device is
    # re-offered in a loop and its agent logged out within milliseconds.
    failed_offer_retry: float = 5.0
    language: Literal["sv", "en"] | None = None
    voicemail_email: EmailAddress | None = None
    calendar: Identifier | None = None
    flow: Identifier | None = None  # flows.ID for numbers of this queue that name none
    # Where overflowing calls go when that is not a queue: "voicemail" (this queue's
    # mailbox) or "number:NNN" (an entry of the number plan: a service or another flow).
    overflow_target: str | None = None
    # Agents reached on a phone number hear which queue calls and press 1 to take it (a
    # mobile's voicemail must not take the caller). None: on for tel: devices only.
    accept_prompt: bool | None = None
    accept_timeout: Annotated[float, Field(gt=0, le=60)] = 10.0
    survey: SurveyConfig | None = None
    callback: CallbackConfig | None = None
    classification_profile: Identifier | None = None  # classification_profiles.ID
    classification_timeout: Seconds = 120.0  # how long wrap-up waits for the code
    # Unanswered offers in a row from this queue after which the agent is logged out
    # ("logout") or paused ("pause") and told why; default 5 and logout (SPEC S4).
    max_unanswered: Annotated[int, Field(ge=1, le=100)] | None = None
    unanswered_action: Literal["logout", "pause"] | None = None
    screen_pop: ScreenPopConfig | None = None  # over the system's [screen_pop]
    # Outbound calls placed for this queue (docs/outbound.md): the number customers see,
    # the dial prefix that chooses the queue ("*1" before the number), and the wrap-up.
    outbound_caller_id: PhoneNumber | None = None
    outbound_prefix: Annotated[str, Field(pattern=r"^\*[0-9]{1,3}$")] | None = None
    outbound_wrap_up: Seconds = 0.0

    @field_validator("failed_offer_retry")
    @classmethod
    def _retry_seconds(cls, value: float) -> float:
        if not 0 <= value <= 600:
            raise ValueError(
                "expected seconds (0 to 600) to wait before offering a call again to an agent "
                "whose phone just failed (0: retry at once)"
            )
        return value


class AgentConfig(_Strict):
    name: str
    sip_password: Annotated[str, Field(min_length=4)]
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")] | None = None
    remote_number: PhoneNumber | None = None
    alternative_number: PhoneNumber | None = None
    answer_groups: list[Identifier] = Field(default_factory=list)
    preselected_groups: list[Identifier] = Field(default_factory=list)
    email: EmailAddress | None = None
    # Skill level per answer group (0 first; the "ordered" strategy offers lower levels
    # first). Groups not named here have level 0.
    skill_levels: dict[Identifier, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=dict
    )
    screen_pop: ScreenPopConfig | None = None  # over the queue's and the system's
    outbound_queue: Identifier | None = None  # the queue the agent's outbound calls count for

    @model_validator(mode="after")
    def _preselected_subset(self) -> AgentConfig:
        extra = set(self.preselected_groups) - set(self.answer_groups)
        if extra:
            raise ValueError(
                f"preselected_groups {sorted(extra)} are not in this agent's answer_groups"
            )
        extra = set(self.skill_levels) - set(self.answer_groups)
        if extra:
            raise ValueError(f"skill_levels {sorted(extra)} are not in this agent's answer_groups")
        return self


class PauseReasonConfig(_Strict):
    """A reason an agent may give for a pause (lunch, meeting ...). With none defined any
    reason is taken; with some, an agent's pause must name one of their ids."""

    name: str | None = None


class AdminConfig(_Strict):
    """Someone allowed to record prompts by phone: caller id plus PIN."""

    caller_id: PhoneNumber
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")]


class TrunkConfig(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str
    port: Port = 5060
    # "tls" needs [sip.tls] enabled (the port is then usually 5061).
    transport: TrunkTransport = "udp"
    username: str | None = None
    password: str | None = None
    # Register Vaxel to the trunk ("register" in the file; renamed to keep pydantic happy).
    register_: bool = Field(default=False, alias="register")
    # Caller id Vaxel presents on calls out through this trunk.
    caller_id: PhoneNumber | None = None


class SmtpConfig(_Strict):
    host: str = "127.0.0.1"
    port: Port = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "vaxel@localhost"
    # Seconds one send may take (connect, STARTTLS, transfer) before it counts as failed.
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0


class SmsConfig(_Strict):
    """Where text messages go (a callback's number to an agent on a phone number).

    ``log``: written to the log only (the demo). ``http``: POSTed as JSON ``{"from", "to",
    "text"}`` to ``url`` (with ``Authorization: Bearer token`` if given); any 2xx is sent."""

    driver: Literal["log", "http"] = "log"
    url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    token: str | None = None
    sender: str = "Vaxel"
    timeout: Annotated[float, Field(gt=0, le=60)] = 10.0

    @model_validator(mode="after")
    def _url_for_http(self) -> SmsConfig:
        if self.driver == "http" and self.url is None:
            raise ValueError('url: required with driver = "http" (the gateway\'s address)')
        return self


# Seconds before the 2nd, 3rd ... attempt to mail a voicemail; then the mail is given up.
MAIL_RETRY_DELAYS: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0)


class TransfersConfig(_Strict):
    """Agents passing callers on (docs/transfers.md): blind, attended, and hold."""

    # A blind or consult target (an agent's phone, an external number) rings this long
    # before the transfer counts as failed and the caller goes back to the agent.
    ring_timeout: Annotated[float, Field(gt=0, le=300)] = 30.0
    # Added to the priority of a caller transferred into a queue (they keep their original
    # arrival time in any case, so they are served before later callers of equal priority).
    queue_priority: Annotated[int, Field(ge=0, le=100)] = 0
    # External numbers (through the trunk) as transfer or consult targets.
    external: bool = True
    # What a caller on hold hears (a prompt name of the catalogue or the prompt store).
    hold_music: Annotated[str, Field(min_length=1)] = "hold-music"


class VoicemailConfig(_Strict):
    """Message length and mail retries, for every mailbox. The defaults are those of
    ``ivr.voicemail.VoicemailSettings`` (a test keeps them equal)."""

    # An hour is about 58 MB of WAV, far over what mail servers accept.
    max_seconds: Annotated[float, Field(gt=0, le=3600)] = 180.0
    # Defaults are checked against max_seconds too: a short max_seconds alone could
    # otherwise drop every message.
    silence_seconds: Annotated[float, Field(gt=0, validate_default=True)] = 6.0
    # Shorter messages are callers who hung up at the tone: dropped, not mailed.
    min_seconds: Annotated[float, Field(ge=0, validate_default=True)] = 1.0
    # Up to a day each, at most 20: the message stays listed (and can be resent) after that.
    mail_retry_delays: list[Annotated[float, Field(gt=0, le=86400)]] = Field(
        default_factory=lambda: list(MAIL_RETRY_DELAYS), max_length=20
    )

    @field_validator("silence_seconds", "min_seconds")
    @classmethod
    def _below_max(cls, value: float, info: ValidationInfo) -> float:
        top = info.data.get("max_seconds")  # absent when max_seconds itself is invalid
        if top is not None and value >= top:
            why = {
                "silence_seconds": "silence could never end a message",
                "min_seconds": "every message would be dropped",
            }[str(info.field_name)]
            raise ValueError(f"must be less than max_seconds ({top:g}), or {why}")
        return value

    @field_validator("mail_retry_delays")
    @classmethod
    def _increasing(cls, delays: list[float]) -> list[float]:
        # Backing off: a mail server that is down for a while is not hammered.
        for before, delay in zip(delays, delays[1:], strict=False):
            if delay <= before:
                raise ValueError(
                    f"each delay must be longer than the one before, but {delay:g} follows "
                    f"{before:g}"
                )
        return delays

    def settings(self) -> VoicemailSettings:
        return VoicemailSettings(self.max_seconds, self.silence_seconds, self.min_seconds)


class RateConfig(_Strict):
    """A token bucket per source address: ``rate`` requests a second, ``burst`` at once."""

    rate: Annotated[float, Field(gt=0, le=100_000)]
    burst: Annotated[float, Field(ge=1, le=1_000_000)]


class SecurityRates(_Strict):
    """Per method class; "other" is every method but INVITE, REGISTER and OPTIONS."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    invite: RateConfig = RateConfig(rate=10, burst=30)
    # "register" in the file (renamed: pydantic models have a register attribute).
    register_: RateConfig = Field(default=RateConfig(rate=10, burst=30), alias="register")
    options: RateConfig = RateConfig(rate=10, burst=30)
    other: RateConfig = RateConfig(rate=50, burst=100)


class SecurityAuth(_Strict):
    """Failed digest authentications before a user or a source is locked (docs/security.md)."""

    user_failures: Annotated[int, Field(ge=1, le=10_000)] = 5
    source_failures: Annotated[int, Field(ge=1, le=10_000)] = 10
    window: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    lock_seconds: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    source_lock_seconds: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    max_lock_seconds: Annotated[float, Field(gt=0, le=604_800)] = 3600.0

    @model_validator(mode="after")
    def _max_covers(self) -> SecurityAuth:
        if self.max_lock_seconds < max(self.lock_seconds, self.source_lock_seconds):
            raise ValueError(
                "max_lock_seconds must be at least lock_seconds and source_lock_seconds "
                f"(got {self.max_lock_seconds:g})"
            )
        return self


class SecurityTcp(_Strict):
    """SIP over TCP: connection caps and the timeouts that close idle or stuck ones."""

    max_connections: Annotated[int, Field(ge=1, le=1_000_000)] = 512
    max_connections_per_source: Annotated[int, Field(ge=1, le=1_000_000)] = 32
    idle_timeout: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    read_timeout: Annotated[float, Field(gt=0, le=3600)] = 10.0


def _check_network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(
            f"expected an IP address or a network in CIDR form (10.0.0.0/8), got {value!r}"
        ) from None
    return value


class SecurityConfig(_Strict):
    """Per-source limits and bans, digest lockout and TCP limits (docs/security.md)."""

    enabled: bool = True
    # Exempt from every limit, besides the trunks' hosts: addresses or CIDR networks.
    trusted: list[str] = Field(default_factory=list)
    trust_trunks: bool = True
    rate: SecurityRates = Field(default_factory=SecurityRates)
    max_early_dialogs: Annotated[int, Field(ge=1, le=100_000)] = 20
    ban_after: Annotated[int, Field(ge=1, le=1_000_000)] = 30
    strike_window: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    ban_seconds: Annotated[float, Field(gt=0, le=604_800)] = 300.0
    ban_max_seconds: Annotated[float, Field(gt=0, le=2_592_000)] = 3600.0
    auth: SecurityAuth = Field(default_factory=SecurityAuth)
    tcp: SecurityTcp = Field(default_factory=SecurityTcp)

    @field_validator("trusted")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        return [_check_network(v) for v in values]

    @model_validator(mode="after")
    def _ban_range(self) -> SecurityConfig:
        if self.ban_max_seconds < self.ban_seconds:
            raise ValueError(
                f"ban_max_seconds ({self.ban_max_seconds:g}) must be at least ban_seconds "
                f"({self.ban_seconds:g})"
            )
        return self


DialPrefix = Annotated[str, Field(pattern=r"^\+?[0-9]{1,16}$")]


class OutboundConfig(_Strict):
    """Calls agents place (their phones, click-to-call) through the trunk (docs/outbound.md)."""

    enabled: bool = False
    # Numbers must start with one of these (empty: any); blocked ones are refused first.
    allowed_prefixes: list[DialPrefix] = Field(default_factory=list)
    blocked_prefixes: list[DialPrefix] = Field(default_factory=list)
    # Emergency numbers are placed even when outbound calls are off or not allowed.
    emergency_numbers: list[DialPrefix] = Field(default_factory=lambda: ["112"])
    emergency: Literal["allow", "refuse"] = "allow"
    caller_id: PhoneNumber | None = None  # the company's number (default: the trunk's)
    ring_timeout: Annotated[float, Field(ge=5, le=300)] = 60.0  # the customer's phone
    agent_ring_timeout: Annotated[float, Field(ge=5, le=120)] = 30.0  # click-to-call


class VaxelConfig(_Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    sip: SipConfig = Field(default_factory=SipConfig)
    rtp: RtpConfig = Field(default_factory=RtpConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    ssh: SshConfig = Field(default_factory=SshConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    screen_pop: ScreenPopConfig | None = None  # the system's; queues and agents override
    api: ApiConfig
    numbers: dict[PhoneNumber, NumberTarget] = Field(default_factory=dict)
    answer_groups: dict[Identifier, AnswerGroupConfig] = Field(default_factory=dict)
    queues: dict[Identifier, QueueConfig] = Field(default_factory=dict)
    agents: dict[Identifier, AgentConfig] = Field(default_factory=dict)
    users: dict[Identifier, UserConfig] = Field(default_factory=dict)
    admins: dict[Identifier, AdminConfig] = Field(default_factory=dict)
    trunks: dict[Identifier, TrunkConfig] = Field(default_factory=dict)
    outbound: OutboundConfig = Field(default_factory=OutboundConfig)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    sms: SmsConfig = Field(default_factory=SmsConfig)
    voicemail: VoicemailConfig = Field(default_factory=VoicemailConfig)
    transfers: TransfersConfig = Field(default_factory=TransfersConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    # "base" is the system calendar; a queue with `calendar = "ID"` uses its own.
    calendars: dict[Identifier, CalendarConfig] = Field(default_factory=dict)
    # IVR flows (ivr/config.py); "default" serves numbers and queues that name none.
    flows: dict[Identifier, FlowConfig] = Field(default_factory=dict)
    classification_profiles: dict[Identifier, ClassificationProfileConfig] = Field(
        default_factory=dict
    )
    pause_reasons: dict[Identifier, PauseReasonConfig] = Field(default_factory=dict)
    # The answering service's companies and staff (docs/answering.md); seeds an empty database.
    companies: dict[Identifier, CompanyConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> VaxelConfig:
        problems: list[tuple[str, str]] = []
        for qid, queue in self.queues.items():
            if queue.calendar is not None and queue.calendar not in self.calendars:
                problems.append((f"queues.{qid}.calendar", f"unknown calendar {queue.calendar!r}"))
        for number, target in self.numbers.items():
            if target.queue is not None and target.queue not in self.queues:
                problems.append((f"numbers.{number}.queue", f"unknown queue {target.queue!r}"))
            if target.agent is not None and target.agent not in self.agents:
                problems.append((f"numbers.{number}.agent", f"unknown agent {target.agent!r}"))
            problems += _voicemail_address(self, number, target)
            if number in self.agents:
                problems.append(
                    (f"numbers.{number}", "number is also an agent's id (ambiguous dial)")
                )
        for qid, queue in self.queues.items():
            for group in queue.answer_groups:
                if group not in self.answer_groups:
                    problems.append(
                        (f"queues.{qid}.answer_groups", f"unknown answer group {group!r}")
                    )
            if queue.overflow_queue is not None and queue.overflow_queue not in self.queues:
                problems.append(
                    (f"queues.{qid}.overflow_queue", f"unknown queue {queue.overflow_queue!r}")
                )
            problems += _overflow_target(self, qid, queue)
            profile = queue.classification_profile
            if profile is not None and profile not in self.classification_profiles:
                problems.append(
                    (f"queues.{qid}.classification_profile", f"unknown profile {profile!r}")
                )
            if queue.overflow_queue == qid:
                problems.append(
                    (f"queues.{qid}.overflow_queue", "a queue cannot overflow to itself")
                )
        seen_numbers: dict[str, str] = {}
        for aid, agent in self.agents.items():
            for group in agent.answer_groups:
                if group not in self.answer_groups:
                    problems.append(
                        (f"agents.{aid}.answer_groups", f"unknown answer group {group!r}")
                    )
            # Remote login identifies the agent by caller id: it must be unambiguous.
            for field in ("remote_number", "alternative_number"):
                num = getattr(agent, field)
                if num is None:
                    continue
                if num in seen_numbers:
                    problems.append(
                        (
                            f"agents.{aid}.{field}",
                            f"duplicate number {num} (also {seen_numbers[num]})",
                        )
                    )
                else:
                    seen_numbers[num] = f"agents.{aid}.{field}"
        for name, trunk in self.trunks.items():
            if trunk.transport == "tls" and not self.sip.tls.enabled:
                problems.append(
                    (f"trunks.{name}.transport", '"tls" needs [sip.tls] with enabled = true')
                )
        problems.extend(self._outbound_references())
        problems.extend(self._user_references())
        problems.extend(self._flow_references())
        problems.extend(self._impossible_prompts())
        problems.extend(
            company_problems(
                self.companies,
                {n: t.queue for n, t in self.numbers.items()},
                set(self.calendars),
            )
        )
        if problems:
            raise ConfigReferenceError(problems)
        return self

    def _outbound_references(self) -> list[tuple[str, str]]:
        """Direct numbers, outbound queues and prefixes (docs/outbound.md)."""
        problems: list[tuple[str, str]] = []
        for number, target in self.numbers.items():
            if target.direct is None:
                continue
            key = f"numbers.{number}"
            agent = self.agents.get(target.direct)
            if agent is None:
                problems.append((f"{key}.direct", f"unknown agent {target.direct!r}"))
            elif target.voicemail and not agent.email:
                need = f"agents.{target.direct}.email (or voicemail = false)"
                problems.append(
                    (f"{key}.voicemail", f"voicemail for agent {target.direct!r} needs {need}")
                )
            if target.calendar is not None and target.calendar not in self.calendars:
                problems.append((f"{key}.calendar", f"unknown calendar {target.calendar!r}"))
        for aid, agent in self.agents.items():
            if agent.outbound_queue is not None and agent.outbound_queue not in self.queues:
                problems.append(
                    (f"agents.{aid}.outbound_queue", f"unknown queue {agent.outbound_queue!r}")
                )
        prefixes: dict[str, str] = {}
        for qid, queue in self.queues.items():
            p = queue.outbound_prefix
            if p is None:
                continue
            if p in prefixes:
                problems.append((f"queues.{qid}.outbound_prefix",
                                 f"prefix {p} is also queue {prefixes[p]!r}'s"))  # fmt: skip
            prefixes[p] = qid
        if self.outbound.enabled and not self.trunks:
            problems.append(("outbound.enabled", "outbound calls need a trunk (trunks.ID)"))
        return problems

    def _user_references(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        owners: dict[str, str] = {}
        for name, user in self.users.items():
            if user.agent is None:
                continue
            if user.agent not in self.agents:
                problems.append((f"users.{name}.agent", f"unknown agent {user.agent!r}"))
            elif user.agent in owners:
                problems.append(
                    (
                        f"users.{name}.agent",
                        f"agent {user.agent!r} already belongs to user {owners[user.agent]!r}",
                    )
                )
            else:
                owners[user.agent] = name
        return problems

    def _flow_references(self) -> list[tuple[str, str]]:
        problems = flow_problems(self.flows, self.queues.keys(), self.numbers.keys())
        users = [(f"numbers.{n}.flow", t.flow) for n, t in self.numbers.items()]
        users += [(f"queues.{q}.flow", c.flow) for q, c in self.queues.items()]
        for path, flow in users:
            if flow is not None and flow not in self.flows:
                problems.append((path, f"unknown flow {flow!r}"))
        return problems

    def prompt_uses(self) -> list[tuple[str, str]]:
        """(key path, prompt name) of every prompt the file names: flow steps and the closed
        branch's deviation prompts. Checked against the stored prompts at start."""
        uses = flow_prompt_uses(self.flows)
        for cid, calendar in self.calendars.items():
            for i, deviation in enumerate(calendar.deviations):
                for lang, name in (deviation.prompt or {}).items():
                    uses.append((f"calendars.{cid}.deviations.{i}.prompt.{lang}", name))
        for cid, company in self.companies.items():
            uses.append((f"companies.{cid}.greeting", company.greeting))
            uses.append((f"companies.{cid}.night_message", company.night_message))
        for number, target in self.numbers.items():
            if target.closed_prompt is not None:
                uses.append((f"numbers.{number}.closed_prompt", target.closed_prompt))
        for qid, queue in self.queues.items():
            if queue.survey is not None:
                sv = queue.survey
                key = f"queues.{qid}.survey"
                uses += [(f"{key}.questions.{i}", q) for i, q in enumerate(sv.questions)]
                uses += [(f"{key}.{k}", getattr(sv, k)) for k in ("welcome", "closing", "invalid")]
        return uses

    def _impossible_prompts(self) -> list[tuple[str, str]]:
        """Names no upload can ever provide; the others may be uploaded after the start."""
        return [
            (
                path,
                f"prompt {name!r} can never be found: it is not a standard prompt, and stored "
                "prompts are named with 1-32 characters a-z, 0-9, '-' or '_'",
            )
            for path, name in self.prompt_uses()
            if not can_exist(name)
        ]


def _voicemail_address(
    config: VaxelConfig, number: str, target: NumberTarget
) -> list[tuple[str, str]]:
    """A voicemail number whose mailbox has no address would keep messages nobody hears of."""
    if target.service != "voicemail":
        return []
    if target.queue in config.queues and not config.queues[target.queue].voicemail_email:
        key = f"queues.{target.queue}.voicemail_email"
        return [(f"numbers.{number}", f"voicemail for queue {target.queue!r} needs {key}")]
    if target.agent in config.agents and not config.agents[target.agent].email:
        key = f"agents.{target.agent}.email"
        return [(f"numbers.{number}", f"voicemail for agent {target.agent!r} needs {key}")]
    return []


def _overflow_target(config: VaxelConfig, qid: str, queue: QueueConfig) -> list[tuple[str, str]]:
    target = queue.overflow_target
    if target is None:
        return []
    key = f"queues.{qid}.overflow_target"
    if queue.overflow_queue is not None:
        return [(key, "give either overflow_queue or overflow_target, not both")]
    if target == "voicemail":
        if queue.voicemail_email is None:
            return [(key, "voicemail needs the queue's voicemail_email (the mailbox)")]
        return []
    if target.startswith("number:"):
        number = target.removeprefix("number:")
        if number not in config.numbers:
            return [(key, f"number {number!r} is not in the number plan")]
        return []
    if target in config.queues:
        return [] if target != qid else [(key, "a queue cannot overflow to itself")]
    return [(key, f"expected 'voicemail', 'number:NNN' or a queue id, got {target!r}")]


class ConfigReferenceError(ValueError):
    """Cross-reference problems, each with the key path it concerns."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in problems))
