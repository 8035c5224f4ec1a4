"""The recording services a number can lead to: prompt recording by phone and voicemail.

The dialogues live in ``ivr/record_prompt.py`` and ``ivr/voicemail.py``; this module gives
them a ``RecordingChannel`` over the caller's media leg and connects them to the prompt
store and the voicemail service.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from pathlib import Path

from ivr import (
    Admin,
    DigitResult,
    Recording,
    UnusableRecording,
    leave_voicemail,
    listen_to_voicemail,
    record_prompt_by_phone,
)
from media import MediaLeg, Prompt
from vaxel.storage.prompt_store import PromptFileError, PromptNameError, PromptStore
from vaxel.voicemail import Mailbox, VoicemailService, wav_seconds

from .directory import Directory
from .flow_services import FlowServicesImpl
from .session import InboundCall
from .voicemail_listen import AgentMailboxes

DTMF_KEYS = "0123456789*#"


class CallRecordingChannel:
    """``RecordingChannel`` over an ``InboundCall`` and its media leg."""

    def __init__(self, call: InboundCall) -> None:
        self.call = call
        self.call_id = call.call_id
        self.a_number = call.a_number
        self.b_number = call.b_number
        self.language = call.language

    def _leg(self) -> MediaLeg:
        leg = self.call.leg
        assert leg is not None  # a recording channel is made for an answered call only
        return leg

    async def play(self, prompts: Sequence[str], *, barge_in: bool = False) -> str | None:
        return await self.call.play(prompts, barge_in=barge_in)

    async def play_file(self, path: Path, *, barge_in: bool = False) -> str | None:
        result = await self._leg().play(
            [Prompt(path)], interrupt_digits=DTMF_KEYS if barge_in else ""
        )
        if result.reason == "hangup":
            raise asyncio.CancelledError
        return result.digit

    async def collect_digits(
        self, max_digits: int, first_timeout: float, inter_timeout: float, terminator: str = "#"
    ) -> DigitResult:
        return await self.call.collect_digits(max_digits, first_timeout, inter_timeout, terminator)

    def flush_digits(self) -> None:
        self._leg().flush_digits()

    async def record_to(
        self, path: Path, max_seconds: float, silence_seconds: float | None
    ) -> Recording:
        res = await self._leg().record(
            path, max_seconds, stop_on_hash=True, silence_seconds=silence_seconds
        )
        return Recording(Path(res.path), res.duration, res.reason)

    def recorded_seconds(self, path: Path) -> float:
        return wav_seconds(path)

    async def log(self, kind: str, **data: object) -> None:
        await self.call.log(kind, **data)


class _CallMailbox:
    """``VoicemailBox`` for one call: the message goes to ``mailbox``."""

    def __init__(self, service: VoicemailService, call: InboundCall, mailbox: Mailbox) -> None:
        self.service, self.call, self.mailbox = service, call, mailbox

    async def store(self, recording: Recording) -> int:
        return await self.service.store(
            recording,
            call_id=self.call.call_id,
            mailbox=self.mailbox,
            a_number=self.call.a_number,
            b_number=self.call.b_number,
        )

    def discard(self, path: Path) -> None:
        self.service.discard(path)


class PhoneServices:
    def __init__(
        self,
        directory: Directory,
        prompt_store: PromptStore,
        voicemail: VoicemailService,
        flow_services: FlowServicesImpl,
        scratch_dir: Path,
    ) -> None:
        self.directory = directory
        self.prompt_store = prompt_store
        self.voicemail_service = voicemail
        self.flow_services = flow_services
        self.scratch_dir = scratch_dir

    # ------------------------------------------------------------------ prompt recording

    def _admin(self, caller_id: str | None) -> Admin | None:
        name = self.directory.admin_for_caller(caller_id)
        if name is None:
            return None
        return Admin(name, self.directory.config.admins[name].pin)

    async def _save_prompt(self, path: Path, language: str) -> int:
        data = await asyncio.to_thread(path.read_bytes)
        for _ in range(3):  # an upload may take the same rec-<n> name in between
            try:
                number, _info = await self.prompt_store.add_recording(data, language=language)
                return number
            except PromptFileError as exc:
                raise UnusableRecording(str(exc)) from exc
            except PromptNameError:
                continue
        raise RuntimeError("no free number for the recorded prompt")

    async def record_prompt(self, call: InboundCall) -> None:
        call.outcome = "prompt_recording"
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        scratch = self.scratch_dir / f"take-{secrets.token_hex(6)}.wav"
        try:
            result = await record_prompt_by_phone(
                CallRecordingChannel(call), self._admin, self._save_prompt, scratch
            )
            call.outcome = f"prompt_{result.outcome}"  # prompt_saved, prompt_refused ...
        finally:
            scratch.unlink(missing_ok=True)

    # ------------------------------------------------------------------ voicemail

    def mailbox_for(self, call: InboundCall) -> Mailbox | None:
        """The dialled voicemail number's agent, else the queue the call is in."""
        config = self.directory.config
        target = config.numbers.get(call.b_number)
        agent = target.agent if target is not None and target.service == "voicemail" else None
        if target is not None and target.direct is not None:  # a direct number's agent
            agent = target.direct
        if agent is not None and agent in config.agents:
            a = config.agents[agent]
            return Mailbox(a.name, a.email, agent=agent)
        if call.queue is not None and call.queue in config.queues:
            q = config.queues[call.queue]
            return Mailbox(q.name or call.queue, q.voicemail_email, queue=call.queue)
        return None

    async def voicemail(self, call: InboundCall) -> None:
        call.outcome = "voicemail"
        mailbox = self.mailbox_for(call)
        if mailbox is None:
            await call.log("voicemail_no_mailbox")
            await call.play(["goodbye"])
            return
        greeting = "voicemail-prompt"
        activated = mailbox.queue and self.flow_services.queue_prompt(mailbox.queue, greeting)
        if activated and call.can_play(activated):
            greeting = activated
        elif activated:  # gone since it was activated: the standard greeting, not just a beep
            await call.log("prompt_missing", prompt=activated, instead=greeting)
        result = await leave_voicemail(
            CallRecordingChannel(call),
            _CallMailbox(self.voicemail_service, call, mailbox),
            self.voicemail_service.new_path(),
            greeting,
            self.directory.config.voicemail.settings(),
        )
        call.outcome = "voicemail" if result.voicemail_id is not None else "voicemail_empty"

    async def listen_voicemail(self, call: InboundCall) -> None:
        """Voicemail by phone (``service = "voicemail-listen"``): an agent's mailboxes."""
        result = await listen_to_voicemail(
            CallRecordingChannel(call),
            AgentMailboxes(self.directory.config, self.voicemail_service),
        )
        call.outcome = f"voicemail_listen_{result.outcome}"
