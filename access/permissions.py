"""Who may do what: the roles, the actions the front doors guard, and the one decision.

Pure and I/O-free: a front door asks :func:`decide` with the caller's :class:`Principal`,
the action the endpoint needs and (for agent actions) the agent acted upon, and shows the
reason of a refusal as it is. The matrix is written out for people in ``docs/access.md``;
``tests/access`` keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "ROLE_GRANTS",
    "Action",
    "Decision",
    "Principal",
    "Role",
    "TOKEN_SCOPES",
    "decide",
    "grants_for",
]


class Role(StrEnum):
    """The three kinds of user. Each role can do everything the one below it can."""

    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"


class Action(StrEnum):
    """What an endpoint needs, in the words ``docs/access.md`` uses."""

    # Own account: who am I, log out, own API tokens. Every signed-in user.
    SELF = "self"
    # The live board: agents and their states, queue status, calendars, the event stream.
    VIEW_LIVE = "view_live"
    # Log an agent in or out, pause, ready, end wrap-up with a classification. Agents only
    # for themselves; managers and admins for everyone.
    ACT_AGENT = "act_agent"
    # Live calls with caller numbers.
    VIEW_CALLS = "view_calls"
    # The call log and everything computed from it (statistics). A grant of its own.
    STATISTICS = "statistics"
    # What callers hear: stored prompts, the prompt of each queue slot, hot prompts.
    PROMPTS = "prompts"
    # Voicemail messages of every mailbox: listen, resend the mail.
    VOICEMAIL = "voicemail"
    # Read the audit trail.
    AUDIT = "audit"
    # Users, their roles, passwords, locks and tokens.
    USERS = "users"
    # The centre's configuration: queues, numbers, groups, calendars (changed at run time).
    CONFIGURE = "configure"
    # The answering service: see companies, their staff and absence notes; take a message.
    ANSWERING = "answering"
    # Create, change and delete the answering service's companies and their staff.
    COMPANIES = "companies"
    # Set or clear absence notes (also what an absence-scoped API token may do, and only it).
    ABSENCE = "absence"


_AGENT = frozenset({Action.SELF, Action.VIEW_LIVE, Action.ACT_AGENT, Action.ANSWERING})
_MANAGER = _AGENT | {
    Action.COMPANIES,
    Action.ABSENCE,
    Action.VIEW_CALLS,
    Action.STATISTICS,
    Action.PROMPTS,
    Action.VOICEMAIL,
    Action.AUDIT,
}
_ADMIN = _MANAGER | {Action.USERS, Action.CONFIGURE}

ROLE_GRANTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(_ADMIN),
    Role.MANAGER: frozenset(_MANAGER),
    Role.AGENT: _AGENT,
}


def grants_for(role: Role, *, statistics: bool | None = None) -> frozenset[Action]:
    """The role's grants; ``statistics`` True/False adds or removes that one grant
    (None: the role's default: managers and admins have it, agents do not)."""
    grants = set(ROLE_GRANTS[role])
    if statistics is True:
        grants.add(Action.STATISTICS)
    elif statistics is False:
        grants.discard(Action.STATISTICS)
    return frozenset(grants)


@dataclass(frozen=True)
class Principal:
    """Someone authenticated: a user (or a configured API token, which acts as an admin).

    ``agent`` is the agent id the user works as (required for the agent role).
    """

    name: str
    role: Role
    agent: str | None = None
    grants: frozenset[Action] = field(default=frozenset())
    # An API token limited to some actions (TOKEN_SCOPES): only those, whatever the role.
    scope: str | None = None

    @classmethod
    def of(
        cls, name: str, role: Role, agent: str | None = None, *, statistics: bool | None = None
    ) -> Principal:
        return cls(name, role, agent, grants_for(role, statistics=statistics))

    def scoped(self, scope: str) -> Principal:
        """This user through a token of ``scope``: that scope's actions, if the role has them."""
        return Principal(self.name, self.role, self.agent, self.grants & TOKEN_SCOPES[scope], scope)


# What a scoped API token may do (docs/access.md, "Scoped tokens").
TOKEN_SCOPES: dict[str, frozenset[Action]] = {"absence": frozenset({Action.ABSENCE})}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


_WHO_MAY = {
    Action.SELF: "every signed-in user",
    Action.VIEW_LIVE: "every signed-in user",
    Action.ACT_AGENT: "managers and admins (agents: only for themselves)",
    Action.VIEW_CALLS: "managers and admins",
    Action.STATISTICS: "users with the statistics permission (managers and admins, or a user "
    "given statistics = true)",
    Action.PROMPTS: "managers and admins",
    Action.VOICEMAIL: "managers and admins",
    Action.AUDIT: "managers and admins",
    Action.USERS: "admins",
    Action.CONFIGURE: "admins",
    Action.ANSWERING: "every signed-in user",
    Action.COMPANIES: "managers and admins",
    Action.ABSENCE: "managers, admins and absence-scoped API tokens",
}


def decide(principal: Principal, action: Action, *, target_agent: str | None = None) -> Decision:
    """May ``principal`` do ``action`` (on ``target_agent``, for agent actions)? The reason of
    a refusal names who is refused, what for and who may."""
    who = f"{principal.role.value} {principal.name!r}"
    if principal.scope is not None and action not in principal.grants:
        allowed = ", ".join(sorted(_WHAT[a] for a in TOKEN_SCOPES[principal.scope]))
        return Decision(
            False,
            f"the API token of {who} is scoped to {principal.scope!r}: it may only {allowed}, "
            f"not {_WHAT[action]}",
        )
    if action not in principal.grants:
        return Decision(False, f"{who} may not {_WHAT[action]}: only {_WHO_MAY[action]} may")
    if action is Action.ACT_AGENT and principal.role is Role.AGENT:
        if principal.agent is None:
            return Decision(False, f"{who} is not linked to an agent id and cannot act as one")
        if target_agent is not None and target_agent != principal.agent:
            return Decision(
                False,
                f"{who} acts only for agent {principal.agent!r}, not for agent "
                f"{target_agent!r}: ask a manager or an admin",
            )
    return Decision(True)


_WHAT = {
    Action.SELF: "use an account",
    Action.VIEW_LIVE: "see the live board",
    Action.ACT_AGENT: "log agents in or out, pause them or make them ready",
    Action.VIEW_CALLS: "see live calls",
    Action.STATISTICS: "read the call log or statistics",
    Action.PROMPTS: "read or change prompts and hot prompts",
    Action.VOICEMAIL: "read or resend voicemail",
    Action.AUDIT: "read the audit trail",
    Action.USERS: "manage users",
    Action.CONFIGURE: "change the configuration",
    Action.ANSWERING: "see the answering service's companies or take messages",
    Action.COMPANIES: "change the answering service's companies or staff",
    Action.ABSENCE: "set or clear absence notes",
}
