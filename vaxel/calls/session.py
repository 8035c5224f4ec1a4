"""State of one call as the controller tracks it: the caller's leg and offers to agents."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from media.engine import Bridge, MediaLeg
from media.prompts import Prompt
from sip.sdp import SessionDescription

from .prompts import PromptError, PromptResolver


@dataclass(eq=False)
class AgentOffer:
    """One attempt to reach an agent's device for a call (an outgoing INVITE)."""

    call: InboundCall
    agent: str
    device: str
    leg: MediaLeg | None = None
    handle: str | None = None
    dialog_id: str | None = None
    offer_sdp: SessionDescription | None = None
    # Set once: "answered", "rejected", "failed", "cancelled".
    result: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    cancelled: bool = False
    auth_tries: int = 0
    target_uri: str = ""
    destination: tuple[str, int] = ("", 0)
    transport: str = "UDP"

    def settle(self, outcome: str) -> None:
        if not self.result.done():
            self.result.set_result(outcome)


@dataclass(eq=False)
class InboundCall:
    """A caller's call from INVITE to hang-up."""

    call_id: str
    request_id: str
    a_number: str | None
    b_number: str
    language: str
    leg: MediaLeg
    prompts: PromptResolver
    started_at: float = field(default_factory=time.time)
    dialog_id: str | None = None
    queue: str | None = None
    acked: asyncio.Future[bytes] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    task: asyncio.Task[None] | None = None
    offers: dict[str, AgentOffer] = field(default_factory=dict)
    agent: AgentOffer | None = None
    bridge: Bridge | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    end_reason: str | None = None
    in_acd: bool = False
    answered_at: float | None = None
    connected_at: float | None = None
    enqueued_at: float | None = None
    hold_task: asyncio.Task[None] | None = None
    # "ivr" until the caller reaches the queue (hung up during prompts/menus).
    outcome: str = "ivr"
    late_offer: SessionDescription | None = None

    # --- CallerChannel (what IVR steps use) ----------------------------------------------
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
            result = await self.leg.play(resolved, interrupt_digits=digits)
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
    ):
        from ivr import DigitResult

        res = await self.leg.collect_digits(
            max_digits, first_timeout, inter_timeout, terminator or None
        )
        return DigitResult(res.digits, res.reason)

    async def record(self, max_seconds: float) -> tuple[str, float] | None:
        raise NotImplementedError("recording is done by the service handlers")

    async def log(self, kind: str, **data: object) -> None:  # replaced by the controller
        pass

    # --- hold music and announcements ----------------------------------------------------
    def start_hold_music(self) -> None:
        if self.hold_task is None or self.hold_task.done():
            self.hold_task = asyncio.create_task(self._hold_loop(), name=f"hold-{self.call_id}")

    def stop_hold_music(self) -> None:
        if self.hold_task is not None:
            self.hold_task.cancel()
            self.hold_task = None
        if not self.leg.closed:
            self.leg.stop_playback()

    async def _hold_loop(self) -> None:
        music = self.prompts.resolve("hold-music", self.language)
        await self.leg.play([music], loop=True)

    async def announce(self, position: int, estimated_wait: float | None) -> None:
        """Interrupt the music with position and estimated wait, then resume it."""
        if self.connected.is_set() or self.leg.closed:
            return
        # A step of the call like any other: in the call log before the caller hears it.
        wait = None if estimated_wait is None else round(estimated_wait, 1)
        await self.log("announced", position=position, estimated_wait=wait)
        if self.connected.is_set() or self.leg.closed:
            return
        self.stop_hold_music()
        lang = self.language
        items = self.prompts.resolve_all(["you-are-number"], lang)
        items += self.prompts.number(position, lang)
        items += self.prompts.resolve_all(["in-queue"], lang)
        if estimated_wait is not None and estimated_wait > 0:
            items += self.prompts.resolve_all(["estimated-wait"], lang)
            items += self.prompts.duration(max(60.0, round(estimated_wait / 60) * 60), lang)
        try:
            await self.leg.play(items)
        finally:
            if not self.connected.is_set() and not self.leg.closed:
                self.start_hold_music()
