"""Prompts and hot prompts for every front door: the list, and hot prompts on and off.

A hot prompt is stored before it is put in force (it survives a restart), and every change
is audited, whichever door it came through.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from prompts import ALL_QUEUES, HotPrompts
from vaxel.storage.prompt_store import PromptActivations, PromptStore

from .audit import Actor, AuditLog
from .errors import ServiceError


def hot_json(prompt: str, queue: str, until: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "queue": queue,
        "until": until.isoformat() if until else None,
        "active": until is None or now < until,
    }


def parse_until(raw: object, now: datetime) -> datetime | None:
    """An ISO 8601 time in the future (naive: UTC), or None for "until deactivated"."""
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(
            "invalid", f'field "until": expected an ISO 8601 time or null, got {raw!r}'
        ) from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value <= now:
        # Accepting it would store a hot prompt that never plays: almost always a typo
        # (a wrong date or offset), so say so.
        raise ServiceError(
            "unprocessable",
            f'field "until": {raw!r} is in the past (now {now.isoformat(timespec="seconds")}); '
            "give a later time, or null to play until deactivated",
            field="until",
        )
    return value


class PromptService:
    def __init__(
        self,
        store: PromptStore,
        activations: PromptActivations,
        hot: HotPrompts,
        queues: Callable[[], Collection[str]],
        audit: AuditLog,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.activations = activations
        self.hot = hot
        self._queues = queues
        self.audit = audit
        self._clock = clock

    async def prompts(self, *, include_standard: bool = True) -> list[dict[str, Any]]:
        return [p.as_dict() for p in await self.store.list(include_standard=include_standard)]

    def hot_prompts(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [hot_json(h.prompt, h.queue, h.until, now) for h in self.hot.all()]

    async def known_prompt(self, prompt: object) -> str:
        if not isinstance(prompt, str) or not prompt:
            raise ServiceError("invalid", 'field "prompt": expected a prompt name')
        if not await self.store.exists(prompt):
            raise ServiceError("invalid", f"unknown prompt {prompt!r} (see the list of prompts)")
        return prompt

    def queue(self, queue: object) -> str:
        if queue != ALL_QUEUES and (not isinstance(queue, str) or queue not in self._queues()):
            raise ServiceError(
                "invalid", f'field "queue": no queue {queue!r} (use a queue id or "*")'
            )
        return queue

    async def hot_on(
        self, actor: Actor, prompt: object, queue: object = ALL_QUEUES, until: object = None
    ) -> dict[str, Any]:
        """Play ``prompt`` first to every caller of ``queue`` ("*": all) until ``until``."""
        name = await self.known_prompt(prompt)
        qid = self.queue(queue)
        end = parse_until(until, self._clock())
        before = next((h for h in self.hot.all() if (h.prompt, h.queue) == (name, qid)), None)
        await self.activations.set_hot(name, qid, end)
        self.hot.activate(name, qid, end)
        now = self._clock()
        after = hot_json(name, qid, end, now)
        await self.audit.record(
            actor,
            "hotprompt.on",
            f"hot prompt {name} ({qid})",
            before=None if before is None else hot_json(name, qid, before.until, now),
            after=after,
        )
        return after

    async def hot_off(
        self, actor: Actor, prompt: object, queue: object = ALL_QUEUES
    ) -> dict[str, Any]:
        if not isinstance(prompt, str) or not isinstance(queue, str):
            raise ServiceError("invalid", 'expected {"prompt": name, "queue": id or "*"}')
        before = next((h for h in self.hot.all() if (h.prompt, h.queue) == (prompt, queue)), None)
        await self.activations.remove_hot(prompt, queue)
        if not self.hot.deactivate(prompt, queue):
            raise ServiceError("not_found", f"no hot prompt {prompt!r} for queue {queue!r}")
        now = self._clock()
        await self.audit.record(
            actor,
            "hotprompt.off",
            f"hot prompt {prompt} ({queue})",
            before=None if before is None else hot_json(prompt, queue, before.until, now),
        )
        return {"prompt": prompt, "queue": queue, "active": False}
