"""The console's commands: one line in, text out, through the same services as the API.

No SSH here: :class:`Console` takes a line and the :class:`~vaxel.services.Actor` who typed
it and returns what to print (or raises :class:`ConsoleError` with a message naming what is
wrong), and :meth:`Console.complete` completes the word under the cursor. ``server.py``
carries the lines over SSH.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os.path
import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from access import Action, decide
from acd import AgentState
from config import MANAGED
from prompts import ALL_QUEUES
from vaxel.services import Actor, AgentService, CallControlService, ServiceError
from vaxel.services.calendars import (
    UnknownCalendar,
    calendar_ids,
    explain,
    find_calendar,
    format_explanation,
)
from vaxel.services.live import agent_json, live_calls, queue_json
from vaxel.services.prompts import PromptService

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack
    from vaxel.host import ServerView


class ConsoleError(Exception):
    """A command refused; the message says what is wrong (``agent 9999: no such agent``)."""


@dataclass(frozen=True)
class _Command:
    words: str  # the usage line
    summary: str
    action: Action


COMMANDS: dict[str, _Command] = {
    "help": _Command("help", "this list", Action.SELF),
    "agents": _Command("agents", "every agent: state, device, groups", Action.VIEW_LIVE),
    "agent": _Command(
        "agent ID login [sip|pstn NUMBER|remote] | logout | pause REASON | ready",
        "log an agent in (default: its SIP phone) or out, pause it with a reason, make it ready",
        Action.ACT_AGENT,
    ),
    "queues": _Command(
        "queues", "live: waiting callers, longest wait, agents by state", Action.VIEW_LIVE
    ),
    "calls": _Command("calls", "live calls", Action.VIEW_CALLS),
    "call": _Command(
        "call ID transfer TARGET | consult TARGET | toggle | complete | cancel | hold | resume",
        "act for the call's agent (ID: as calls shows it, or any unique start): blind transfer "
        "or consult a queue number, an agent id or a number; then toggle, complete or cancel",
        Action.ACT_AGENT,
    ),
    "calendar": _Command(
        "calendar explain QUEUE|CALENDAR [TIME]",
        "open or closed (now, or at TIME: ISO 8601 or HH:MM today), which rule decided",
        Action.VIEW_LIVE,
    ),
    "prompts": _Command("prompts", "stored and standard prompts, and hot prompts", Action.PROMPTS),
    "hotprompt": _Command(
        "hotprompt on PROMPT [QUEUE] [until TIME] | off PROMPT [QUEUE]",
        'play PROMPT first to every caller of QUEUE (default "*": all queues)',
        Action.PROMPTS,
    ),
    "schedules": _Command("schedules", "scheduled logins", Action.VIEW_LIVE),
    "audit": _Command("audit [N]", "the last N audit entries (default 20)", Action.AUDIT),
    "config": _Command(
        "config show KIND [ID] | set KIND ID FIELD VALUE | unset KIND ID FIELD | delete KIND ID",
        "the configuration at run time (VALUE as JSON, else text): applies to the next call",
        Action.CONFIGURE,
    ),
    "user": _Command(
        "user NAME keys | key add KEY-LINE | key remove N",
        "a user's SSH public keys for this console (applies at the next sign-in)",
        Action.USERS,
    ),
    "security": _Command(
        "security",
        "SIP bans and lockouts in force, refused connections, RTP port pressure",
        Action.AUDIT,
    ),
    "unban": _Command(
        "unban ADDRESS", "lift an address's ban and its authentication lockout", Action.CONFIGURE
    ),
    "exit": _Command("exit", "end the session (also: quit, Ctrl-D)", Action.SELF),
}
_AGENT_VERBS = ("login", "logout", "pause", "ready")
# The console's words -> the call control service's operations (the API's names).
_CALL_VERBS = {
    "transfer": "transfer",
    "consult": "consult",
    "toggle": "toggle",
    "complete": "complete",
    "cancel": "cancel-consult",
    "hold": "hold",
    "resume": "resume",
}
_CALL_TARGET = ("transfer", "consult")
_DEVICES = ("sip", "pstn", "remote")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[("-" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(header)]  # fmt: skip
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}:{seconds:02d}"


class Console:
    """The commands of one signed-in user (a manager or an admin)."""

    def __init__(self, host: ServerView, actor: Actor) -> None:
        self.host = host
        self.actor = actor
        # Prompt names for completion (the store is async; refreshed after each command).
        self._prompt_names: list[str] = []

    # ------------------------------------------------------------------ plumbing

    def _stack(self) -> CallStack:
        stack = self.host.calls
        if stack is None:
            raise ConsoleError("call handling is not running yet")
        return stack

    def _prompt_service(self) -> PromptService:
        stack = self._stack()
        config = self.host.config
        return PromptService(
            stack.prompt_store,
            stack.activations,
            stack.hot_prompts,
            lambda: config.queues,
            self.host.audit,
        )

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.host.config.server.time_zone)

    async def refresh(self) -> None:
        """Reload what completion offers that only the database knows (prompt names)."""
        try:
            self._prompt_names = [p["name"] for p in await self._prompt_service().prompts()]
        except ConsoleError:
            self._prompt_names = []

    async def run(self, line: str) -> str:
        """Carry out one command line; returns the text to show."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise ConsoleError(f"cannot read the line: {exc}") from None
        if not words:
            return ""
        name, args = words[0], words[1:]
        command = COMMANDS.get(name)
        if command is None:
            close = difflib.get_close_matches(name, COMMANDS, n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise ConsoleError(f"{name}: unknown command{hint}; type help for the list")
        principal = self.actor.principal
        assert principal is not None
        if command.action is not Action.ACT_AGENT:
            verdict = decide(principal, command.action)
            if not verdict:
                raise ConsoleError(verdict.reason)
        handler: Callable[[list[str]], Awaitable[str]] = getattr(self, f"_cmd_{name}")
        try:
            return await handler(args)
        except ServiceError as exc:
            raise ConsoleError(exc.message) from None

    # ------------------------------------------------------------------ commands

    async def _cmd_help(self, args: list[str]) -> str:
        lines = ["commands (Tab completes command words and ids):"]
        width = max(len(c.words) for c in COMMANDS.values())
        if width > 40:
            for c in COMMANDS.values():
                lines.append(f"  {c.words}\n      {c.summary}")
        else:  # pragma: no cover - the usage lines are long today
            lines += [f"  {c.words.ljust(width)}  {c.summary}" for c in COMMANDS.values()]
        return "\n".join(lines)

    async def _cmd_exit(self, args: list[str]) -> str:
        return ""

    async def _cmd_agents(self, args: list[str]) -> str:
        self._no_args("agents", args)
        stack = self._stack()
        rows = []
        for cfg in stack.acd.agent_configs():
            a = agent_json(stack, cfg.id)
            rows.append(
                (
                    a["id"],
                    a["name"],
                    a["state"],
                    a["device"],
                    ",".join(a["groups"]) or None,
                    a["pause_reason"],
                    len(a["registered_contacts"]),
                )
            )
        return _table(("id", "name", "state", "device", "groups", "pause", "phones"), rows)

    def _agent_id(self, agent_id: str) -> str:
        if agent_id not in {c.id for c in self._stack().acd.agent_configs()}:
            raise ConsoleError(f"agent {agent_id}: no such agent (type agents for the list)")
        return agent_id

    async def _cmd_agent(self, args: list[str]) -> str:
        usage = "usage: " + COMMANDS["agent"].words
        if len(args) < 2:
            raise ConsoleError(usage)
        agent_id, verb, rest = self._agent_id(args[0]), args[1], args[2:]
        service = AgentService(self._stack(), self.host.audit)
        if verb == "login":
            kind = rest[0] if rest else "sip"
            if kind not in _DEVICES:
                raise ConsoleError(
                    f"agent {agent_id} login: device {kind!r}: expected sip, pstn NUMBER or remote"
                )
            if kind == "pstn" and len(rest) == 1:
                raise ConsoleError(f"agent {agent_id} login pstn: give the number to ring")
            if kind == "pstn" and len(rest) > 2:
                raise ConsoleError(
                    f"agent {agent_id} login pstn: one number, got {' '.join(rest[1:])!r} "
                    "(quote a number with spaces, or leave them out)"
                )
            if kind != "pstn" and len(rest) > 1:
                raise ConsoleError(f"agent {agent_id} login {kind}: takes no number")
            number = rest[1] if kind == "pstn" else None
            warnings = await service.login(self.actor, agent_id, kind, number)
            return "\n".join([self._agent_line(agent_id), *(f"warning: {w}" for w in warnings)])
        if verb == "logout":
            self._no_args(f"agent {agent_id} logout", rest)
            await service.logout(self.actor, agent_id)
        elif verb == "pause":
            if not rest:
                raise ConsoleError(f'agent {agent_id} pause: give a reason (e.g. "lunch")')
            await service.pause(self.actor, agent_id, " ".join(rest))
        elif verb == "ready":
            self._no_args(f"agent {agent_id} ready", rest)
            await service.ready(self.actor, agent_id)
        else:
            raise ConsoleError(
                f"agent {agent_id}: unknown action {verb!r} (login, logout, pause, ready)"
            )
        return self._agent_line(agent_id)

    def _agent_line(self, agent_id: str) -> str:
        a = agent_json(self._stack(), agent_id)
        parts = [f"agent {agent_id}: {a['state']}"]
        if a["device"]:
            parts.append(f"on {a['device']}")
        if a["groups"]:
            parts.append(f"in {','.join(a['groups'])}")
        if a["pause_reason"]:
            parts.append(f"(pause: {a['pause_reason']})")
        return " ".join(parts)

    async def _cmd_queues(self, args: list[str]) -> str:
        self._no_args("queues", args)
        stack = self._stack()
        now = datetime.now(UTC).timestamp()
        rows = []
        states = [s.value for s in AgentState if s is not AgentState.OFFLINE]
        for qid in stack.directory.config.queues:
            q = queue_json(stack, qid, now)
            live = q["live"]
            by_state = {s: 0 for s in states}
            for agent in live["agents"]:
                by_state[agent["state"]] = by_state.get(agent["state"], 0) + 1
            agents = " ".join(f"{s}={n}" for s, n in by_state.items() if n) or "none logged in"
            rows.append(
                (
                    qid,
                    live["waiting_count"],
                    _secs(live["longest_wait_seconds"]),
                    live["ringing_count"],
                    live["connected_count"],
                    _secs(live["estimated_wait_seconds"]),
                    agents,
                )
            )
        header = ("queue", "waiting", "longest", "ringing", "talking", "ewt", "agents")
        return _table(header, rows)

    async def _cmd_calls(self, args: list[str]) -> str:
        self._no_args("calls", args)
        calls = live_calls(self._stack())
        if not calls:
            return "no live calls"
        rows = [
            (
                c["call_id"][:16],
                c["a_number"],
                c["b_number"],
                c["queue"],
                c["state"],
                c["agent"] or (",".join(c["ringing_agents"]) or None),
                _secs(c["wait_seconds"]),
                _secs(c["talk_seconds"]),
            )
            for c in calls
        ]
        header = ("call", "from", "to", "queue", "state", "agent", "wait", "talk")
        return _table(header, rows)

    def _call_id(self, given: str) -> str:
        """The live call ``given`` names: its id, or the one id that starts with it (the
        calls list shows the first 16 characters)."""
        ids = [c["call_id"] for c in live_calls(self._stack())]
        if given in ids:
            return given
        matches = [i for i in ids if i.startswith(given)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ConsoleError(f"call {given}: {len(matches)} live calls start so; type more of it")
        raise ConsoleError(f"call {given}: no such live call (type calls for the list)")

    async def _cmd_call(self, args: list[str]) -> str:
        usage = "usage: " + COMMANDS["call"].words
        if len(args) < 2:
            raise ConsoleError(usage)
        call_id, verb, rest = self._call_id(args[0]), args[1], args[2:]
        operation = _CALL_VERBS.get(verb)
        if operation is None:
            raise ConsoleError(
                f"call {args[0]}: unknown action {verb!r} ({', '.join(_CALL_VERBS)})"
            )
        if verb in _CALL_TARGET and len(rest) != 1:
            raise ConsoleError(
                f"call {args[0]} {verb}: give one target (a queue number, an agent id or a number)"
            )
        if verb not in _CALL_TARGET:
            self._no_args(f"call {args[0]} {verb}", rest)
        service = CallControlService(self._stack(), self.host.audit)
        result = await service.act(self.actor, call_id, operation, rest[0] if rest else None)
        line = f"call {call_id} (agent {result['agent']}): {result['message']}"
        x = result["transfer"]
        if x and "phase" in x:
            talking = f", talking to the {x['talking_to']}" if x["talking_to"] else ""
            line += f"\n{x['phase']}: {x['target_kind']} {x['target']}{talking}"
        elif x:
            line += "\non hold"
        return line

    async def _cmd_calendar(self, args: list[str]) -> str:
        if len(args) not in (2, 3) or args[0] != "explain":
            raise ConsoleError("usage: " + COMMANDS["calendar"].words)
        config = self.host.config
        try:
            calendar, queue = find_calendar(config, args[1])
        except UnknownCalendar as exc:
            raise ConsoleError(f"calendar explain: {exc}") from None
        at = datetime.now(UTC)
        if len(args) == 3:
            at = self._time(args[2], calendar.tz, "calendar explain TIME")
        return format_explanation(explain(calendar, at, queue))

    def _time(self, raw: str, zone: Any, what: str) -> datetime:
        """ISO 8601 (no offset: wall clock in ``zone``) or HH:MM (the next such time)."""
        now = datetime.now(zone)
        try:
            if len(raw) <= 5 and ":" in raw:
                hhmm = clock_time.fromisoformat(raw.zfill(5))
                at = now.replace(hour=hhmm.hour, minute=hhmm.minute, second=0, microsecond=0)
                return at if at > now else at + timedelta(days=1)
            at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ConsoleError(
                f"{what}: expected an ISO 8601 time (2025-12-24T16:00) or HH:MM, got {raw!r}"
            ) from None
        return at if at.tzinfo else at.replace(tzinfo=zone)

    async def _cmd_prompts(self, args: list[str]) -> str:
        self._no_args("prompts", args)
        service = self._prompt_service()
        items = await service.prompts()
        rows = [
            (p["name"], p["source"], p["language"],
             (p.get("description") or "")[:50])
            for p in items
        ]  # fmt: skip
        out = _table(("prompt", "kind", "language", "description"), rows)
        hot = service.hot_prompts()
        if hot:
            hot_rows = [(h["prompt"], h["queue"], h["until"] or "until off", h["active"])
                        for h in hot]  # fmt: skip
            out += "\n\nhot prompts:\n" + _table(("prompt", "queue", "until", "active"), hot_rows)
        else:
            out += "\n\nhot prompts: none"
        return out

    async def _cmd_hotprompt(self, args: list[str]) -> str:
        usage = "usage: " + COMMANDS["hotprompt"].words
        if len(args) < 2 or args[0] not in ("on", "off"):
            raise ConsoleError(usage)
        verb, prompt, rest = args[0], args[1], args[2:]
        until: str | None = None
        if "until" in rest:
            i = rest.index("until")
            if verb == "off" or i != len(rest) - 2:
                raise ConsoleError(usage)
            until_at = self._time(rest[i + 1], self._zone(), "hotprompt until")
            until = until_at.isoformat()
            rest = rest[:i]
        if len(rest) > 1:
            raise ConsoleError(usage)
        queue = rest[0] if rest else ALL_QUEUES
        service = self._prompt_service()
        if verb == "on":
            hot = await service.hot_on(self.actor, prompt, queue, until)
            end = f" until {hot['until']}" if hot["until"] else " until switched off"
            return f"hot prompt {prompt} on for queue {queue}{end}"
        await service.hot_off(self.actor, prompt, queue)
        return f"hot prompt {prompt} off for queue {queue}"

    async def _cmd_schedules(self, args: list[str]) -> str:
        self._no_args("schedules", args)
        schedules = self._stack().schedules.schedules
        if not schedules:
            return "no scheduled logins"
        rows = [
            (s.id, s.agent, f"{s.first_day}..{s.last_day}",
             f"{s.start.isoformat('minutes')}-{s.end.isoformat('minutes')}", s.zone, s.number)
            for s in schedules
        ]  # fmt: skip
        return _table(("id", "agent", "days", "hours", "zone", "number"), rows)

    async def _cmd_audit(self, args: list[str]) -> str:
        if len(args) > 1 or (args and not (args[0].isdigit() and 1 <= int(args[0]) <= 10000)):
            raise ConsoleError("audit [N]: N is how many entries to show (1-10000)")
        limit = int(args[0]) if args else 20
        entries = await self.host.audit.entries(limit=limit)
        if not entries:
            return "the audit trail is empty"
        rows = [
            (e.at.astimezone(self._zone()).isoformat(timespec="seconds"), e.actor, e.via,
             e.source, e.action, e.target, _change(e.before, e.after))
            for e in reversed(entries)
        ]  # fmt: skip
        return _table(("at", "who", "via", "from", "action", "target", "change"), rows)

    async def _cmd_config(self, args: list[str]) -> str:
        usage = "usage: " + COMMANDS["config"].words
        admin = self.host.admin
        if len(args) < 2:
            raise ConsoleError(usage)
        verb, kind, rest = args[0], args[1], args[2:]
        if verb == "show":
            if not rest:
                items = admin.list(kind)
                return "\n".join(f"{key}: {json.dumps(i['document'])}" for key, i in items.items())
            doc, tag = admin.get(kind, rest[0])
            return f"{kind}/{rest[0]} {tag}\n{json.dumps(doc, indent=2)}"
        if verb == "delete" and len(rest) == 1:
            await admin.delete(self.actor, kind, rest[0], "*")
            return f"deleted {kind}/{rest[0]}"
        if verb in ("set", "unset") and len(rest) >= 2:
            key, field = rest[0], rest[1]
            if verb == "set":
                if len(rest) < 3:
                    raise ConsoleError(f"config set {kind} {key} {field}: give a value")
                raw = " ".join(rest[2:])
                try:
                    value: Any = json.loads(raw)
                except ValueError:
                    value = raw  # plain text: a name, an e-mail address ...
            else:
                value = None
            exists = key in admin.list(kind)
            # The console reads and writes in one step: "*" is the version it just read.
            doc, tag, _ = await admin.put(
                self.actor, kind, key, {field: value}, "*" if exists else None, via_patch=exists
            )
            return f"{kind}/{key} {tag}\n{json.dumps(doc)}"
        raise ConsoleError(usage)

    async def _cmd_user(self, args: list[str]) -> str:
        usage = "usage: " + COMMANDS["user"].words
        if len(args) < 2:
            raise ConsoleError(usage)
        name, verb, rest = args[0], args[1], args[2:]
        users = self.host.users
        keys = (await users.user(name))["ssh_keys"]
        if verb == "keys" and not rest:
            return "\n".join(f"{i + 1}. {k}" for i, k in enumerate(keys)) or f"{name}: no keys"
        if verb == "key" and len(rest) >= 2 and rest[0] == "add":
            keys = [*keys, " ".join(rest[1:])]
        elif verb == "key" and len(rest) == 2 and rest[0] == "remove":
            if not rest[1].isdigit() or not 1 <= int(rest[1]) <= len(keys):
                raise ConsoleError(f"user {name} key remove: expected 1 to {len(keys)}")
            del keys[int(rest[1]) - 1]
        else:
            raise ConsoleError(usage)
        after = await users.update_user(self.actor, name, {"ssh_keys": keys})
        return f"user {name}: {len(after['ssh_keys'])} key(s)"

    async def _cmd_security(self, args: list[str]) -> str:
        self._no_args("security", args)
        stack = self._stack()
        bans = stack.security_bans()
        locks = stack.security_locks()
        out = []
        if bans:
            rows = [(b["address"], b["reason"], _secs(float(b["remaining_seconds"])), b["count"])  # type: ignore[arg-type]
                    for b in bans]  # fmt: skip
            out.append(_table(("banned", "reason", "left", "count"), rows))
        else:
            out.append("no bans")
        if locks:
            rows = [(lk["kind"], lk["key"], _secs(float(lk["remaining_seconds"])), lk["failures"])  # type: ignore[arg-type]
                    for lk in locks]  # fmt: skip
            out.append(_table(("locked", "who", "left", "failures"), rows))
        else:
            out.append("no authentication lockouts")
        pressure = stack.pressure()
        ports, conns = pressure["rtp_ports"], pressure["sip_connections"]
        out.append(
            f"RTP port pairs: {ports['in_use']} of {ports['pairs']} in use, "
            f"{ports['allocation_failures']} calls found none free"
        )
        out.append(
            f"SIP connections: {conns['open']} open, {conns['refused']} refused, "
            f"{conns['tls_handshake_failures']} failed TLS handshakes"
        )
        return "\n".join(out)

    async def _cmd_unban(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ConsoleError("usage: " + COMMANDS["unban"].words)
        address = args[0]
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ConsoleError(f"unban: expected an IP address, got {address[:60]!r}") from None
        if not self._stack().remove_ban(address):
            raise ConsoleError(f"unban: {address} is neither banned nor locked")
        await self.host.audit.record(self.actor, "security.unbanned", address)
        return f"{address}: ban and lockout lifted"

    @staticmethod
    def _no_args(what: str, args: list[str]) -> None:
        if args:
            raise ConsoleError(f"{what}: takes no arguments (got {' '.join(args)!r})")

    # ------------------------------------------------------------------ completion

    def candidates(self, words: list[str]) -> list[str]:
        """What may come as word ``len(words)`` after ``words`` (already typed)."""
        n = len(words)
        if n == 0:
            return [*COMMANDS, "quit"]
        stack = self.host.calls
        queues = list(self.host.config.queues)
        first = words[0]
        if first == "agent":
            if n == 1:
                return [c.id for c in stack.acd.agent_configs()] if stack else []
            if n == 2:
                return list(_AGENT_VERBS)
            if n == 3 and words[2] == "login":
                return list(_DEVICES)
        elif first == "call":
            if n == 1:
                return [c["call_id"] for c in live_calls(stack)] if stack else []
            if n == 2:
                return list(_CALL_VERBS)
            if n == 3 and words[2] in _CALL_TARGET:
                return (
                    [*self.host.config.numbers, *(c.id for c in stack.acd.agent_configs())]
                    if stack
                    else []
                )
        elif first == "calendar":
            if n == 1:
                return ["explain"]
            if n == 2:
                return [*queues, *calendar_ids(self.host.config)]
        elif first == "config":
            if n == 1:
                return ["show", "set", "unset", "delete"]
            if n == 2:
                return list(MANAGED)
            if n == 3 and words[2] in MANAGED:
                return list(getattr(self.host.config, words[2]))
        elif first == "hotprompt":
            if n == 1:
                return ["on", "off"]
            if n == 2:
                return list(self._prompt_names)
            if n == 3:
                return [*queues, ALL_QUEUES] + (["until"] if words[1] == "on" else [])
            if n == 4 and words[1] == "on":
                return ["until"]
        return []

    def complete(self, line: str, pos: int) -> tuple[str, int] | bool:
        """Tab at ``pos`` of ``line``: the line with the word completed as far as it is
        unambiguous (a space after a whole word), or False (the bell) when nothing fits."""
        head, tail = line[:pos], line[pos:]
        words = head.split()
        partial = "" if head.endswith(" ") or not head else words.pop()
        options = sorted({c for c in self.candidates(words) if c.startswith(partial)})
        if not options:
            return False
        if len(options) == 1:
            addition = options[0][len(partial) :] + " "
        else:
            addition = os.path.commonprefix(options)[len(partial) :]
            if not addition:
                return False
        return head + addition + tail, pos + len(addition)


def _change(before: Any, after: Any) -> str:
    def brief(value: Any) -> str:
        if isinstance(value, dict):
            return ",".join(f"{k}={v}" for k, v in value.items() if v not in (None, [], ""))
        return "" if value is None else str(value)

    b, a = brief(before), brief(after)
    return f"{b} -> {a}" if b and a else (a or b)
