"""Administration at run time: agents, queues, numbers, groups, calendars, classification
profiles and pause reasons created, changed and deleted while calls run.

The database is the source of truth once the server has started: the TOML file seeds an
empty database, afterwards the stored documents win (docs/operations.md). Every change
is validated twice before it is stored: the entity by its own model (config/schema.py,
the same messages as the file), then the whole configuration (references). It is then
stored compare-and-set on its version (ETag), applied to the running call stack (the next
call sees it; live calls keep what they started with) and audited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from acd import CalendarConfig, DeviationConfig
from config import (
    MANAGED,
    AgentConfig,
    AnswerGroupConfig,
    ClassificationProfileConfig,
    ConfigError,
    NumberTarget,
    PauseReasonConfig,
    QueueConfig,
    VaxelConfig,
    describe_error,
    document,
    documents_of,
    with_documents,
)
from vaxel.logs import log_event
from vaxel.storage.config_store import ConfigStore, VersionMismatch

from .audit import Actor, AuditLog
from .errors import ServiceError

log = logging.getLogger("vaxel.admin")

MODELS: dict[str, type[BaseModel]] = {
    "numbers": NumberTarget,
    "answer_groups": AnswerGroupConfig,
    "queues": QueueConfig,
    "agents": AgentConfig,
    "calendars": CalendarConfig,
    "classification_profiles": ClassificationProfileConfig,
    "pause_reasons": PauseReasonConfig,
}
# Never written to the audit trail in clear.
_SECRETS = ("sip_password", "pin")


def _redacted(doc: Any) -> Any:
    if not isinstance(doc, dict):
        return doc
    return {k: ("***" if k in _SECRETS else v) for k, v in doc.items()}


def etag(kind: str, key: str, version: int) -> str:
    return f'"{kind}/{key}/{version}"'


def parse_etag(value: str | None, kind: str, key: str) -> int | None:
    """The version an If-Match names (None: it names another entity or is malformed)."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    prefix = f'"{kind}/{key}/'
    if text.startswith(prefix) and text.endswith('"') and text[len(prefix) : -1].isdigit():
        return int(text[len(prefix) : -1])
    return None


def _problems(exc: ConfigError) -> list[dict[str, str]]:
    """'source: path: reason' lines as {field, reason}."""
    out = []
    for line in exc.problems:
        _, _, rest = line.partition(": ")
        field, _, reason = rest.partition(": ")
        out.append({"field": field, "reason": reason})
    return out


def _refusal(exc: ConfigError) -> ServiceError:
    problems = _problems(exc)
    message = "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
    return ServiceError("invalid", message, problems=problems)


class ConfigAdmin:
    """The administered configuration of a running server (API, SSH console, CLI)."""

    def __init__(
        self,
        store: ConfigStore,
        audit: AuditLog,
        *,
        current: Callable[[], VaxelConfig],
        apply: Callable[[VaxelConfig], None],
        in_use: Callable[[str, str], list[str]] = lambda kind, key: [],
        agent_users: Callable[[str], Awaitable[list[str]]] | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self._current = current
        self._apply = apply
        self._in_use = in_use
        self._agent_users = agent_users
        self._versions: dict[tuple[str, str], int] = {}
        self._lock = asyncio.Lock()  # one change at a time: validate, store, apply

    # ----------------------------------------------------------------- start

    async def start(self, file_config: VaxelConfig) -> VaxelConfig:
        """The configuration to run: the file's, with the managed sections from the
        database. An empty database is seeded from the file first."""
        if await self.store.is_empty():
            await self.store.replace_all(documents_of(file_config))
            source = "seeded from the configuration file (the database was empty)"
        else:
            source = "database (the file's agents, queues, numbers ... are not read)"
        docs, self._versions = await self.store.load()
        try:
            config = with_documents(file_config, docs)
        except ConfigError as exc:
            raise ConfigError(
                [f"the stored configuration no longer fits the file: {p}" for p in exc.problems]
            ) from None
        log_event(log, "config.source", source=source)
        return config

    # ----------------------------------------------------------------- reading

    def _check_kind(self, kind: str) -> None:
        if kind not in MANAGED:
            raise ServiceError("not_found", f"unknown kind {kind!r} (one of {', '.join(MANAGED)})")

    def list(self, kind: str) -> dict[str, Any]:
        self._check_kind(kind)
        entities = getattr(self._current(), kind)
        return {
            key: {
                "document": document(m),
                "etag": etag(kind, key, self._versions.get((kind, key), 0)),
            }
            for key, m in entities.items()
        }

    def get(self, kind: str, key: str) -> tuple[dict[str, Any], str]:
        self._check_kind(kind)
        entities = getattr(self._current(), kind)
        if key not in entities:
            raise ServiceError("not_found", f"no {MANAGED[kind]} {key!r}")
        return document(entities[key]), etag(kind, key, self._versions.get((kind, key), 0))

    # ----------------------------------------------------------------- changing

    def _version_for(
        self, kind: str, key: str, if_match: str | None, *, exists: bool
    ) -> int | None:
        """The version a change replaces, from If-Match. Without If-Match a new entity may
        be created; changing or deleting an existing one needs it (428)."""
        current = self._versions.get((kind, key)) if exists else None
        if if_match is None:
            if exists:
                raise ServiceError(
                    "precondition_required",
                    f"{MANAGED[kind]} {key!r} exists: send If-Match with its ETag "
                    f"({etag(kind, key, current or 0)}) from GET, so that a change made "
                    "meanwhile is not overwritten",
                )
            return None
        if if_match.strip() == "*" and exists:
            return current
        wanted = parse_etag(if_match, kind, key)
        if not exists or wanted != current:
            now = etag(kind, key, current) if current is not None else "none (it does not exist)"
            raise ServiceError(
                "precondition_failed",
                f"If-Match {if_match} does not match the current version of {MANAGED[kind]} "
                f"{key!r}: {now}; someone changed it meanwhile, GET it again",
            )
        return current

    def _validated(self, kind: str, key: str, body: Any) -> dict[str, Any]:
        """The entity by its own model: the file's messages, with the field's full path."""
        if not isinstance(body, dict):
            raise ServiceError(
                "invalid", f"{kind}.{key}: expected a JSON object, got {type(body).__name__}"
            )
        try:
            model = MODELS[kind].model_validate(body)
        except ValidationError as exc:
            raise _prefixed(exc, kind, key) from None
        return document(model)

    async def put(
        self,
        actor: Actor,
        kind: str,
        key: str,
        body: Any,
        if_match: str | None,
        *,
        via_patch: bool = False,
    ) -> tuple[dict[str, Any], str, bool]:
        """Create or replace one entity. Returns (document, ETag, created)."""
        self._check_kind(kind)
        async with self._lock:
            config = self._current()
            entities = getattr(config, kind)
            exists = key in entities
            before = document(entities[key]) if exists else None
            if via_patch:
                if not exists:
                    raise ServiceError("not_found", f"no {MANAGED[kind]} {key!r}")
                body = _merge_patch(before, body)
            expected = self._version_for(kind, key, if_match, exists=exists)
            doc = self._validated(kind, key, body)
            new = self._whole(config, kind, key, doc)
            version = await self._store(kind, key, doc, expected)
            try:
                self._apply(new)
            except ServiceError:  # the running stack refused: the stored one goes back
                if before is None:
                    await self.store.delete(kind, key, version)
                    self._versions.pop((kind, key), None)
                else:
                    self._versions[(kind, key)] = await self.store.put(kind, key, before, version)
                raise
            action = f"config.{kind}.{'changed' if exists else 'created'}"
        await self.audit.record(
            actor, action, f"{kind}/{key}", before=_redacted(before), after=_redacted(doc)
        )
        log_event(log, "config.changed", kind=kind, key=key, version=version, by=actor.name)
        return doc, etag(kind, key, version), not exists

    async def delete(self, actor: Actor, kind: str, key: str, if_match: str | None) -> None:
        self._check_kind(kind)
        async with self._lock:
            config = self._current()
            entities = getattr(config, kind)
            if key not in entities:
                raise ServiceError("not_found", f"no {MANAGED[kind]} {key!r}")
            expected = self._version_for(kind, key, if_match, exists=True)
            busy = self._in_use(kind, key)
            if kind == "agents" and self._agent_users is not None:
                busy += [f"user {u} (works as it)" for u in await self._agent_users(key)]
            if busy:
                raise ServiceError(
                    "conflict",
                    f"{MANAGED[kind]} {key!r} is in use: {', '.join(busy)}; try again when "
                    "they are done (log the agent out, let the calls end)",
                    in_use=busy,
                )
            before = document(entities[key])
            new = self._whole(config, kind, key, None)
            try:
                await self.store.delete(kind, key, expected or 0)
            except VersionMismatch as exc:
                raise _mismatch(kind, key, exc) from None
            try:
                self._apply(new)
            except ServiceError:  # a call arrived meanwhile: the entity stays
                self._versions[(kind, key)] = await self.store.put(kind, key, before, None)
                raise
            self._versions.pop((kind, key), None)
        await self.audit.record(
            actor, f"config.{kind}.deleted", f"{kind}/{key}", before=_redacted(before)
        )
        log_event(log, "config.deleted", kind=kind, key=key, by=actor.name)

    # ----------------------------------------------------------------- deviations

    async def add_deviation(
        self, actor: Actor, calendar: str, body: Any, if_match: str | None
    ) -> tuple[int, dict[str, Any], str]:
        """Add a deviation first in a calendar's list (POST /api/calendars/{id}/deviations)."""
        doc, tag = self.get("calendars", calendar)
        try:
            DeviationConfig.model_validate(body)
        except ValidationError as exc:
            raise _prefixed(exc, "calendars", f"{calendar}.deviations.new") from None
        # First: deviations are tried in order, and the one added now is the one meant
        # (a meeting today must not lose to a weekly "open late" rule further up).
        doc = dict(doc)
        doc["deviations"] = [body, *doc.get("deviations", [])]
        stored, tag, _ = await self.put(actor, "calendars", calendar, doc, if_match or tag)
        return 0, stored["deviations"][0], tag

    async def remove_deviation(
        self, actor: Actor, calendar: str, index: int, if_match: str | None
    ) -> str:
        doc, tag = self.get("calendars", calendar)
        deviations = list(doc.get("deviations", []))
        if not 0 <= index < len(deviations):
            raise ServiceError(
                "not_found",
                f"calendar {calendar!r} has no deviation {index} "
                f"({len(deviations)} deviations, numbered from 0)",
            )
        del deviations[index]
        doc = dict(doc) | {"deviations": deviations}
        _, tag, _ = await self.put(actor, "calendars", calendar, doc, if_match or tag)
        return tag

    # ----------------------------------------------------------------- helpers

    def _whole(self, config: VaxelConfig, kind: str, key: str, doc: Any) -> VaxelConfig:
        docs = documents_of(config)
        if doc is None:
            docs[kind].pop(key, None)
        else:
            docs[kind][key] = doc
        try:
            return with_documents(config, docs, source="request")
        except ConfigError as exc:
            raise _refusal(exc) from None

    async def _store(self, kind: str, key: str, doc: Any, expected: int | None) -> int:
        try:
            version = await self.store.put(kind, key, doc, expected)
        except VersionMismatch as exc:
            raise _mismatch(kind, key, exc) from None
        self._versions[(kind, key)] = version
        return version


def _mismatch(kind: str, key: str, exc: VersionMismatch) -> ServiceError:
    return ServiceError(
        "precondition_failed",
        f"{MANAGED[kind]} {key!r} was changed meanwhile (stored version {exc.current}); "
        "GET it again",
    )


def _prefixed(exc: ValidationError, kind: str, key: str) -> ServiceError:
    problems = [
        {
            "field": ".".join([kind, key, *(str(p) for p in err["loc"])]),
            "reason": describe_error(err),
        }
        for err in exc.errors()
    ]
    message = "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
    return ServiceError("invalid", message, problems=problems)


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null removes a key, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge_patch(out.get(k), v)
    return out


def config_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Section names whose entities differ (for the import summary)."""
    return [s for s in MANAGED if before.get(s) != after.get(s)]
