"""Agent operations every front door offers: log in, log out, pause, ready, end wrap-up.

The permission is decided here (``access.decide``: agents act only for themselves), the ACD
applies the event, the agent's login is persisted before the answer (it survives a crash
from then on), and a change made for someone else is audited.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from access import Action, decide
from acd import AcdError

from .audit import Actor, AuditLog
from .errors import ServiceError

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

DEVICE_KINDS = ("sip", "pstn", "remote", "browser")
# Same digits the configuration accepts for phone numbers, after separators are dropped.
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_SEPARATORS = re.compile(r"[\s\-().]")


def agent_snapshot(stack: CallStack, agent_id: str) -> dict[str, Any]:
    """What an agent change is audited as (before and after)."""
    view = stack.acd.agent_view(agent_id)
    return {
        "state": view.state.value,
        "device": view.device,
        "groups": sorted(view.groups),
        "pause_reason": view.pause_reason,
    }


class AgentService:
    def __init__(self, stack: CallStack, audit: AuditLog) -> None:
        self.stack = stack
        self.audit = audit

    # ------------------------------------------------------------------ checks

    def check(self, actor: Actor, agent_id: str) -> None:
        """Known agent, and the actor may act for it (else ServiceError)."""
        try:
            self.stack.acd.agent_config(agent_id)
        except AcdError:
            raise ServiceError("not_found", f"unknown agent {agent_id!r}") from None
        if actor.principal is None:
            raise ServiceError("unauthenticated", "sign in first")
        verdict = decide(actor.principal, Action.ACT_AGENT, target_agent=agent_id)
        if not verdict:
            raise ServiceError("forbidden", verdict.reason)

    def device(self, agent_id: str, kind: object, number: object) -> str:
        """The ACD device of a login: ``sip:<id>``, ``tel:<digits>`` or ``browser:<id>``."""
        if kind is None:
            raise ServiceError(
                "invalid", f"field 'device': required, one of {', '.join(DEVICE_KINDS)}"
            )
        if kind not in DEVICE_KINDS:
            raise ServiceError(
                "invalid",
                f"field 'device': expected one of {', '.join(DEVICE_KINDS)}, got {kind!r}",
            )
        if kind != "pstn" and number is not None:
            raise ServiceError(
                "invalid", f"field 'number': only used with device 'pstn', not {kind!r}"
            )
        if kind == "sip":
            return f"sip:{agent_id}"
        if kind == "browser":  # the agent's page is the phone (vaxel/calls/browser_phone.py)
            return f"browser:{agent_id}"
        if kind == "remote":
            remote = self.stack.acd.agent_config(agent_id).remote_number
            if not remote:
                raise ServiceError(
                    "conflict",
                    f"agent {agent_id!r} has no remote_number in the configuration; "
                    "use device 'pstn' with a number",
                )
            return f"tel:{remote}"
        if number is None:
            raise ServiceError(
                "invalid", "field 'number': required with device 'pstn' (the number to ring)"
            )
        if not isinstance(number, str):
            raise ServiceError(
                "invalid", f"field 'number': expected a phone number string, got {number!r}"
            )
        digits = _SEPARATORS.sub("", number)
        if not _NUMBER.match(digits):
            raise ServiceError(
                "invalid",
                f"field 'number': expected digits with an optional leading +, got {number!r}",
            )
        return f"tel:{digits}"

    def groups(self, agent_id: str, groups: object) -> list[str] | None:
        if groups is None:
            return None
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise ServiceError(
                "invalid", f"field 'groups': expected a list of answer group ids, got {groups!r}"
            )
        if not groups:
            raise ServiceError(
                "invalid", "field 'groups': empty; leave it out for the preselected groups"
            )
        member = list(self.stack.acd.agent_config(agent_id).groups)
        foreign = [g for g in groups if g not in member]
        if foreign:
            raise ServiceError(
                "invalid",
                f"field 'groups': agent {agent_id!r} is not a member of {foreign} "
                f"(member of {member})",
            )
        return list(dict.fromkeys(groups))

    # ------------------------------------------------------------------ operations

    async def login(
        self,
        actor: Actor,
        agent_id: str,
        kind: object,
        number: object = None,
        groups: object = None,
        client: object = None,
    ) -> list[str]:
        """Log in (again); returns warnings (e.g. no phone registered for a SIP login).

        ``client``: the login is the agent client's own, and ends a grace period after
        that client's connection is lost (``ClientPresence``)."""
        self.check(actor, agent_id)
        device = self.device(agent_id, kind, number)
        chosen = self.groups(agent_id, groups)
        if client is not None and not isinstance(client, bool):
            raise ServiceError("invalid", f"field 'client': expected true or false, got {client!r}")
        acd = self.stack.acd
        await self._apply(actor, "agent.login", agent_id, acd.agent_login, agent_id, device, chosen)
        if client:
            self.stack.client_presence.bind(agent_id)
        else:
            self.stack.client_presence.unbind(agent_id)
        return self._login_warnings(agent_id, device)

    async def logout(self, actor: Actor, agent_id: str, reason: str | None = None) -> None:
        self.check(actor, agent_id)
        why = reason or "logged out"
        acd = self.stack.acd
        await self._apply(actor, "agent.logout", agent_id, acd.agent_logout, agent_id, reason=why)
        self.stack.client_presence.unbind(agent_id)

    async def pause(self, actor: Actor, agent_id: str, reason: str | None) -> None:
        self.check(actor, agent_id)
        if not reason:
            raise ServiceError(
                "invalid", "field 'reason': required (why the agent pauses, e.g. \"lunch\")"
            )
        # With pause reasons configured (/api/config/pause_reasons) a pause names one.
        known = self.stack.directory.config.pause_reasons
        if known and reason not in known:
            raise ServiceError(
                "invalid",
                f"field 'reason': {reason!r} is not a pause reason (one of {', '.join(known)})",
            )
        acd = self.stack.acd
        await self._apply(actor, "agent.pause", agent_id, acd.agent_pause, agent_id, reason)

    async def ready(self, actor: Actor, agent_id: str) -> None:
        self.check(actor, agent_id)
        await self._apply(actor, "agent.ready", agent_id, self.stack.acd.agent_ready, agent_id)

    async def wrap_up_done(self, actor: Actor, agent_id: str, classification: str | None) -> None:
        self.check(actor, agent_id)
        # Not in wrap-up (it may just have timed out): nothing to do.
        done = self.stack.acd.wrap_up_done
        await self._apply(
            actor, "agent.wrap_up_done", agent_id, done, agent_id, classification=classification
        )

    async def _apply(
        self,
        actor: Actor,
        action: str,
        agent_id: str,
        method: Callable[..., Any],
        *args: object,
        **kw: object,
    ) -> None:
        before = agent_snapshot(self.stack, agent_id)
        try:
            await self.stack.runner.apply(method, *args, **kw)
        except AcdError as exc:
            raise ServiceError("conflict", str(exc)) from None
        # Persisted before the answer: a crash after it keeps this login.
        await self.stack.live_state.flush()
        principal = actor.principal
        if principal is None or principal.agent != agent_id:
            after = agent_snapshot(self.stack, agent_id)
            await self.audit.record(actor, action, f"agent {agent_id}", before=before, after=after)

    def _login_warnings(self, agent_id: str, device: str) -> list[str]:
        """What may keep the new login from getting calls, though it is accepted.

        A SIP login without a registered phone is not refused: the phone may register a
        moment later (logging in from the desktop while the phone boots). But until then
        every offer fails at once, so the one who logged in is told.
        """
        if device.startswith("sip:") and not self.stack.registrar.bindings(agent_id, time.time()):
            return [
                f"no phone is registered for agent {agent_id!r}: calls offered to {device} fail "
                "until a SIP phone registers as that user (or log in with device 'pstn' or "
                "'remote')"
            ]
        if device.startswith("browser:") and self.stack.browsers.phone(agent_id) is None:
            return [
                f"no browser softphone is connected for agent {agent_id!r}: calls offered to "
                f"{device} fail until the agent page is open and connected (its 'Log in on "
                "this browser' button)"
            ]
        return []


def own_agents(actor: Actor, agents: Sequence[str]) -> list[str]:
    """The agents an actor may act for, of ``agents``."""
    if actor.principal is None:
        return []
    return [a for a in agents if decide(actor.principal, Action.ACT_AGENT, target_agent=a)]
