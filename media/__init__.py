"""Vaxel media engine: RTP/RTCP legs, G.711, DTMF, prompts, recording and bridging.

Typical use::

    engine = MediaEngine(host="127.0.0.1", port_min=20000, port_max=20999,
                         prompt_dir=Path("prompts/standard"), no_rtp_timeout=30.0)
    await engine.start()
    leg = await engine.open_leg()                 # leg.local_port is even; RTCP on +1
    leg.set_remote("203.0.113.5", 4000, codec="PCMU", payload_type=0, telephone_event_pt=101)
    await leg.play(["prompts/welcome.wav"])
    result = await leg.collect_digits(4, first_timeout=5, inter_timeout=3)
    bridge = engine.bridge(leg, agent_leg); ...; bridge.stop()
    await leg.close(); await engine.close()
"""

from . import g711
from .clock import MediaClock
from .concealment import Concealment, EndpointHints, choose_concealment
from .dtmf_detect import DtmfDetector, dtmf_tone
from .engine import Bridge, MediaEngine, MediaError, MediaLeg, PortAllocator
from .events import (
    BridgeResult,
    DigitEvent,
    DigitResult,
    LegClosed,
    LegEvent,
    PlayResult,
    RecordResult,
    RtpResumed,
    RtpTimeout,
)
from .numbers import PROMPT_NAMES, duration_words, number_words
from .prompts import EncodedPrompt, Prompt, PromptCache, PromptError, PromptLibrary
from .quality_watch import CallQualityWatch, run_watch
from .rfc4733 import Rfc4733Receiver, Rfc4733Sender
from .rtp import MalformedPacket, RtpSession, SessionCounters, parse_rtp
from .rtpstats import COMPILED, ReceiveStats, RemoteStats
from .srtp import SrtpContext, SrtpError
from .stream import OutboundStream, Player

__all__ = [
    "CallQualityWatch",
    "SrtpContext",
    "SrtpError",
    "Concealment",
    "EndpointHints",
    "choose_concealment",
    "run_watch",
    "COMPILED",
    "Bridge",
    "BridgeResult",
    "DigitEvent",
    "DigitResult",
    "DtmfDetector",
    "EncodedPrompt",
    "LegClosed",
    "LegEvent",
    "MalformedPacket",
    "MediaClock",
    "MediaEngine",
    "MediaError",
    "MediaLeg",
    "OutboundStream",
    "PROMPT_NAMES",
    "PlayResult",
    "Player",
    "PortAllocator",
    "Prompt",
    "PromptCache",
    "PromptError",
    "PromptLibrary",
    "ReceiveStats",
    "RecordResult",
    "RemoteStats",
    "Rfc4733Receiver",
    "Rfc4733Sender",
    "RtpResumed",
    "RtpSession",
    "RtpTimeout",
    "SessionCounters",
    "duration_words",
    "dtmf_tone",
    "g711",
    "number_words",
    "parse_rtp",
]
