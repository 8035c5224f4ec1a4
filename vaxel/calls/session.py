"""What the executor keeps per call: the media legs, SIP handles and running dialogues.

The call's *decisions* live in ``callcore`` (``CallState``); this is only what carrying
them out needs. ``InboundCall`` is also the ``CallerChannel`` the IVR dialogues and the
recording services talk to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from callcore import CallState
from ivr import DigitResult
from media import Bridge, EndpointHints, MediaLeg, Prompt, ReceiveStats, RemoteStats
from prompts import PromptError, PromptResolver
from sip import SessionDescription


@dataclass(eq=False)
class AgentLeg:
    """One attempt to reach an agent's device for a call (an outgoing INVITE)."""

    agent: str
    device: str
    leg: MediaLeg | None = None
    caller_id: str | None = None  # the From (and P-Asserted-Identity) to present
    handle: str | None = None
    dialog_id: str | None = None
    offer_sdp: SessionDescription | None = None
    hints: EndpointHints | None = None  # the agent's phone, from its 2xx (MOS concealment)
    # What the leg is rated with when not its own RTP statistics (a browser: its WebRTC
    # stream as it arrives, vaxel/calls/browser_phone.py).
    rx_stats: ReceiveStats | None = None
    remote_stats: RemoteStats | None = None  # and its far end's reports, likewise
    auth_tries: int = 0
    target_uri: str = ""
    destination: tuple[str, int] = ("", 0)
    transport: str = "UDP"
    answered: bool = False  # a 2xx came: settled, further responses are retransmissions
    dropped: bool = False
    task: asyncio.Task[Any] | None = None


@dataclass(eq=False)
class InboundCall:
    """A caller's call as the executor carries it out."""

    state: CallState
    prompts: PromptResolver
    note: Callable[[str, dict[str, Any]], None]  # a dialogue step for the call log
    leg: MediaLeg | None = None
    answer_body: bytes | None = None
    late_offer: SessionDescription | None = None
    hints: EndpointHints | None = None  # the caller's endpoint, from the INVITE
    dialog_id: str | None = None
    acked: bool = False
    agents: dict[str, AgentLeg] = field(default_factory=dict)
    bridge: Bridge | None = None
    dialogue: asyncio.Task[Any] | None = None
    music: asyncio.Task[Any] | None = None
    music_name: str = "hold-music"
    keys: asyncio.Task[Any] | None = None  # reports keys pressed while waiting
    released: bool = False
    outcome: str | None = None  # set by the phone services (voicemail, prompt recording)

    # --- what live views read ------------------------------------------------------------
    @property
    def call_id(self) -> str:
        return self.state.key

    @property
    def a_number(self) -> str | None:
        return self.state.a_number

    @property
    def b_number(self) -> str:
        return self.state.b_number

    @property
    def language(self) -> str:
        return self.state.language

    @property
    def queue(self) -> str | None:
        return self.state.queue

    @property
    def request_id(self) -> str:
        return self.state.request_id

    # --- CallerChannel (what IVR steps use) ----------------------------------------------
    def _leg(self) -> MediaLeg:
        if self.leg is None or self.leg.closed:
            raise asyncio.CancelledError  # the caller is gone: the dialogue ends here
        return self.leg

    async def play(self, prompts: Sequence[str], *, barge_in: bool = False) -> str | None:
        resolved: list[Prompt] = []
        for name in prompts:
            try:
                resolved.append(self.prompts.resolve(name, self.language))
            except PromptError as exc:
                # A stored prompt can be deleted while the server runs: the caller hears
                # the rest instead of losing the call.
                await self.log("prompt_missing", prompt=name, error=str(exc))
        if not resolved:
            return None
        digits = "0123456789*#" if barge_in else ""
        try:
            result = await self._leg().play(resolved, interrupt_digits=digits)
        except PromptError as exc:  # removed or unreadable between resolving and playing
            await self.log("prompt_missing", prompt=", ".join(prompts), error=str(exc))
            return None
        if result.reason == "hangup":
            raise asyncio.CancelledError
        return result.digit

    def can_play(self, prompt: str) -> bool:
        try:
            self.prompts.resolve(prompt, self.language)
        except PromptError:
            return False
        return True

    async def collect_digits(
        self, max_digits: int, first_timeout: float, inter_timeout: float, terminator: str = "#"
    ) -> DigitResult:
        res = await self._leg().collect_digits(
            max_digits, first_timeout, inter_timeout, terminator or None
        )
        return DigitResult(res.digits, res.reason)

    async def record(self, max_seconds: float) -> tuple[str, float] | None:
        raise NotImplementedError("recording is done by the service handlers")

    async def log(self, kind: str, **data: object) -> None:
        self.note(kind, dict(data))

    # --- waiting in the queue ------------------------------------------------------------
    def stop_music(self) -> None:
        if self.music is not None:
            self.music.cancel()
            self.music = None
        if self.keys is not None:
            self.keys.cancel()
            self.keys = None
        if self.leg is not None and not self.leg.closed:
            self.leg.stop_playback()

    def start_music(
        self, message: str | None, music: str, on_key: Callable[[str], None] | None = None
    ) -> None:
        self.stop_music()
        self.music = asyncio.create_task(self._music(message, music), name=f"hold-{self.call_id}")
        if on_key is not None:
            self.keys = asyncio.create_task(self._watch_keys(on_key), name=f"keys-{self.call_id}")

    async def _watch_keys(self, on_key: Callable[[str], None]) -> None:
        while True:
            got = await self._leg().collect_digits(1, 3600.0, 3600.0, None)
            if got.reason == "hangup":
                return
            if got.digits:
                on_key(got.digits)

    async def _music(self, message: str | None, music: str) -> None:
        if message is not None:
            await self.play([message])
        try:
            track = self.prompts.resolve(music, self.language)
        except PromptError as exc:
            await self.log("prompt_missing", prompt=music, instead="hold-music", error=str(exc))
            track = self.prompts.resolve("hold-music", self.language)
        await self._leg().play([track], loop=True)

    def announce(
        self, position: int, estimated_wait: float | None, music: str, extra: Sequence[str] = ()
    ) -> None:
        """Interrupt the music with position and estimated wait (and ``extra`` prompts,
        e.g. the callback offer), then resume it. Keys are still reported meanwhile."""
        if self.music is not None:
            self.music.cancel()
        if self.leg is not None and not self.leg.closed:
            self.leg.stop_playback()
        self.music = asyncio.create_task(
            self._announce(position, estimated_wait, music, extra),
            name=f"announce-{self.call_id}",
        )

    async def _announce(
        self, position: int, estimated_wait: float | None, music: str, extra: Sequence[str] = ()
    ) -> None:
        lang = self.language
        items = self.prompts.resolve_all(["you-are-number"], lang)
        items += self.prompts.number(position, lang)
        items += self.prompts.resolve_all(["in-queue"], lang)
        if estimated_wait is not None and estimated_wait > 0:
            items += self.prompts.resolve_all(["estimated-wait"], lang)
            items += self.prompts.duration(max(60.0, round(estimated_wait / 60) * 60), lang)
        items += self.prompts.resolve_all(list(extra), lang)
        await self._leg().play(items)
        await self._music(None, music)
