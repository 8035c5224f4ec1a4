"""Users: password login with lockout, session and API tokens, and user administration.

Shared by every front door. Passwords are argon2id hashes (argon2-cffi, OWASP's minimum
parameters: 19 MiB, 2 passes), computed off the event loop. Tokens are random; only their
SHA-256 is stored. The tokens of ``[api] tokens`` act as an admin named "api-token".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from access import (
    TOKEN_SCOPES,
    LockoutPolicy,
    LoginRecord,
    Principal,
    Role,
    after_failure,
    after_success,
    check,
)
from config import ApiConfig, UserConfig, ssh_public_key_problem
from vaxel.logs import log_event
from vaxel.storage.models import TokenRow, UserRow, as_utc

from .audit import Actor, AuditLog
from .errors import ServiceError

log = logging.getLogger("vaxel.auth")

CONFIG_TOKEN_USER = "api-token"
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the user does not exist, so both answers take as long.
_DUMMY_HASH = PASSWORD_HASHER.hash("not a password anybody has")
ROLES = tuple(r.value for r in Role)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, PASSWORD_HASHER.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _ts(at: datetime | None) -> float | None:
    return None if at is None else as_utc(at).timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else as_utc(at).isoformat()


def principal_of(row: UserRow) -> Principal:
    return Principal.of(row.name, Role(row.role), row.agent, statistics=row.statistics)


def user_json(row: UserRow, now: float) -> dict[str, Any]:
    """A user as the front doors show it (never the password hash)."""
    principal = principal_of(row)
    until = _ts(row.locked_until)
    locked = until is not None and until > now
    return {
        "name": row.name,
        "role": row.role,
        "agent": row.agent,
        "email": row.email,
        "statistics": "statistics" in principal.grants,
        "permissions": sorted(a.value for a in principal.grants),
        "locked": locked,
        "locked_until": _iso(row.locked_until) if locked else None,
        "failed_logins": row.failed_logins,
        "ssh_keys": list(row.ssh_keys or []),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: float
    principal: Principal


class UserService:
    def __init__(
        self,
        sessions: async_sessionmaker,
        api: ApiConfig,
        audit: AuditLog,
        *,
        known_agents: Callable[[], Any] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._config_tokens = [t.encode() for t in api.tokens]
        self.session_seconds = api.session_seconds
        self.policy = LockoutPolicy(api.lockout_failures, api.lockout_seconds)
        self.audit = audit
        self._known_agents = known_agents
        self._clock = clock

    # ------------------------------------------------------------------ seeding

    async def seed(self, users: Mapping[str, UserConfig]) -> int:
        """Store the configured users if the database has none yet; returns how many."""
        async with self._sessions() as session:
            count = (await session.execute(select(func.count()).select_from(UserRow))).scalar()
        if count or not users:
            return 0
        hashes = await asyncio.gather(
            *(
                hash_password(u.password) if u.password is not None else _passthrough(u)
                for u in users.values()
            )
        )
        now = _dt(self._clock())
        async with self._sessions.begin() as session:
            for (name, user), digest in zip(users.items(), hashes, strict=True):
                session.add(
                    UserRow(
                        name=name,
                        role=user.role,
                        agent=user.agent,
                        email=user.email,
                        statistics=user.statistics,
                        password_hash=digest,
                        ssh_keys=list(user.ssh_keys) or None,
                        failed_logins=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
        log_event(log, "auth.users_seeded", count=len(users))
        return len(users)

    # ------------------------------------------------------------------ signing in

    async def login(self, name: str, password: str, actor: Actor) -> Session:
        """Check a password and open a session; refusals are audited and logged."""
        row = await self._check_password(name, password, actor)
        now = self._clock()
        token = secrets.token_urlsafe(32)
        expires = now + self.session_seconds
        async with self._sessions.begin() as session:
            session.add(
                TokenRow(
                    user_id=row.id,
                    token_hash=token_digest(token),
                    kind="session",
                    label=f"login via {actor.via}",
                    created_at=_dt(now),
                    expires_at=_dt(expires),
                )
            )
            # Sessions that ran out are of no use to anyone: drop them on the way.
            await session.execute(
                delete(TokenRow).where(TokenRow.kind == "session", TokenRow.expires_at < _dt(now))
            )
        return Session(token, expires, principal_of(row))

    async def authenticate(self, name: str, password: str, actor: Actor) -> Principal:
        """Check a password without opening a session (the SSH console signs in this way);
        the lockout applies and refusals are audited, as for :meth:`login`."""
        return principal_of(await self._check_password(name, password, actor))

    async def key_login(self, name: str, actor: Actor) -> Principal:
        """Who signs in with a public key already verified as ``name``'s (SSH console).

        A locked account stays locked for keys too; a refusal is audited."""
        now = self._clock()
        async with self._sessions() as session:
            row = (await session.execute(select(UserRow).where(UserRow.name == name))).scalar()
        if row is None:
            await self._refused(actor, name, "unknown user")
            raise ServiceError("unauthenticated", f"unknown user {name!r}")
        if check(LoginRecord(row.failed_logins, _ts(row.locked_until)), now) is None:
            await self._refused(actor, name, "account locked")
            raise ServiceError("locked", f"user {name!r} is locked")
        log_event(log, "auth.login", user=name, via=actor.via, source=actor.source, key=True)
        return principal_of(row)

    async def _check_password(self, name: str, password: str, actor: Actor) -> UserRow:
        now = self._clock()
        async with self._sessions() as session:
            row = (await session.execute(select(UserRow).where(UserRow.name == name))).scalar()
        if row is None:
            await _in_thread(_verify, _DUMMY_HASH, password)
            await self._refused(actor, name, "unknown user")
            raise ServiceError("unauthenticated", "wrong user name or password")
        record = check(LoginRecord(row.failed_logins, _ts(row.locked_until)), now)
        if record is None:
            until = as_utc(row.locked_until).isoformat() if row.locked_until else "?"
            await self._refused(actor, name, "account locked")
            raise ServiceError(
                "locked",
                f"user {name!r} is locked after {self.policy.max_failures} wrong passwords in a "
                f"row until {until}; wait, or ask an admin to unlock it",
                locked_until=until,
            )
        if not await _in_thread(_verify, row.password_hash, password):
            record = after_failure(self.policy, record, now)
            await self._store_record(row.id, record)
            if record.locked(now):
                log_event(
                    log,
                    "auth.account_locked",
                    level=logging.WARNING,
                    user=name,
                    source=actor.source,
                    failures=record.failures,
                    until=_iso(_dt(record.locked_until)),
                )
                await self.audit.record(
                    actor,
                    "user.locked",
                    name,
                    after={"failures": record.failures, "until": _iso(_dt(record.locked_until))},
                )
            await self._refused(actor, name, "wrong password")
            raise ServiceError("unauthenticated", "wrong user name or password")
        await self._store_record(row.id, after_success(record))
        log_event(log, "auth.login", user=name, via=actor.via, source=actor.source)
        return row

    async def _refused(self, actor: Actor, name: str, why: str) -> None:
        log_event(
            log,
            "auth.login_refused",
            level=logging.WARNING,
            user=name,
            reason=why,
            via=actor.via,
            source=actor.source,
        )
        await self.audit.record(
            Actor(None, actor.via, actor.source, claimed=name),
            "login.refused",
            name,
            after={"reason": why},
        )

    async def _store_record(self, user_id: int, record: LoginRecord) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(UserRow)
                .where(UserRow.id == user_id)
                .values(failed_logins=record.failures, locked_until=_dt(record.locked_until))
            )

    async def resolve(self, token: str) -> Principal:
        """Who a bearer token belongs to; ServiceError unauthenticated when nobody."""
        given = token.encode()
        if any([hmac.compare_digest(given, t) for t in self._config_tokens]):
            return Principal.of(CONFIG_TOKEN_USER, Role.ADMIN)
        now = self._clock()
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(TokenRow, UserRow)
                    .join(UserRow, UserRow.id == TokenRow.user_id)
                    .where(TokenRow.token_hash == token_digest(token))
                )
            ).first()
        if found is None:
            raise ServiceError("forbidden", "invalid API token")
        tok, user = found
        expires = _ts(tok.expires_at)
        if expires is not None and expires <= now:
            raise ServiceError(
                "unauthenticated",
                f"session expired at {_iso(tok.expires_at)}: sign in again (POST /api/login)",
            )
        principal = principal_of(user)
        return principal.scoped(tok.scope) if tok.scope else principal

    async def logout(self, token: str) -> bool:
        """End the session of ``token`` (API tokens are revoked through their id)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(TokenRow).where(
                    TokenRow.token_hash == token_digest(token), TokenRow.kind == "session"
                )
            )
        return bool(result.rowcount)

    # ------------------------------------------------------------------ administration

    async def _row(self, name: str) -> UserRow:
        async with self._sessions() as session:
            row = (await session.execute(select(UserRow).where(UserRow.name == name))).scalar()
        if row is None:
            raise ServiceError("not_found", f"unknown user {name!r}")
        return row

    async def users(self) -> list[dict[str, Any]]:
        now = self._clock()
        async with self._sessions() as session:
            rows = (await session.execute(select(UserRow).order_by(UserRow.name))).scalars()
            return [user_json(r, now) for r in rows]

    async def user(self, name: str) -> dict[str, Any]:
        return user_json(await self._row(name), self._clock())

    async def create_user(self, actor: Actor, name: str, fields: Mapping[str, Any]) -> dict:
        values = await self._checked(fields, creating=True, name=name)
        now = _dt(self._clock())
        async with self._sessions.begin() as session:
            exists = (await session.execute(select(UserRow.id).where(UserRow.name == name))).first()
            if exists is not None:
                raise ServiceError("conflict", f"user {name!r} exists already")
            row = UserRow(name=name, failed_logins=0, created_at=now, updated_at=now, **values)
            session.add(row)
        after = await self.user(name)
        await self.audit.record(actor, "user.created", name, after=after)
        return after

    async def update_user(self, actor: Actor, name: str, fields: Mapping[str, Any]) -> dict:
        before = await self.user(name)
        values = await self._checked(fields, creating=False, name=name, current=before)
        own = actor.principal is not None and actor.principal.name == name
        if own and values.get("role", before["role"]) != before["role"]:
            raise ServiceError("forbidden", "you cannot change your own role")
        values["updated_at"] = _dt(self._clock())
        async with self._sessions.begin() as session:
            await session.execute(update(UserRow).where(UserRow.name == name).values(**values))
        after = await self.user(name)
        changed = {k: v for k, v in after.items() if before.get(k) != v and k != "updated_at"}
        await self.audit.record(
            actor,
            "user.changed",
            name,
            before={k: before[k] for k in changed},
            after=changed | ({"password": "changed"} if "password_hash" in values else {}),
        )
        return after

    async def delete_user(self, actor: Actor, name: str) -> None:
        if actor.principal is not None and actor.principal.name == name:
            raise ServiceError("forbidden", "you cannot delete yourself; ask another admin")
        before = await self.user(name)
        async with self._sessions.begin() as session:
            await session.execute(
                delete(TokenRow).where(
                    TokenRow.user_id.in_(select(UserRow.id).where(UserRow.name == name))
                )
            )
            await session.execute(delete(UserRow).where(UserRow.name == name))
        await self.audit.record(actor, "user.deleted", name, before=before)

    async def unlock(self, actor: Actor, name: str) -> dict:
        before = await self.user(name)
        row = await self._row(name)
        await self._store_record(row.id, LoginRecord())
        after = await self.user(name)
        await self.audit.record(
            actor,
            "user.unlocked",
            name,
            before={
                "locked_until": before["locked_until"],
                "failed_logins": before["failed_logins"],
            },
            after={"locked_until": None, "failed_logins": 0},
        )
        return after

    async def _checked(
        self,
        fields: Mapping[str, Any],
        *,
        creating: bool,
        name: str,
        current: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Validate user fields (role, password, agent, email, statistics) for the database."""
        out: dict[str, Any] = {}
        role = fields.get("role", None if creating else (current or {}).get("role"))
        if creating and "role" not in fields:
            raise ServiceError("invalid", f"field 'role': required, one of {', '.join(ROLES)}")
        if role not in ROLES:
            raise ServiceError(
                "invalid", f"field 'role': expected one of {', '.join(ROLES)}, got {role!r}"
            )
        if "role" in fields:
            out["role"] = role
        if "password" in fields:
            password = fields["password"]
            if not isinstance(password, str) or len(password) < 8:
                raise ServiceError("invalid", "field 'password': expected at least 8 characters")
            out["password_hash"] = await hash_password(password)
        elif creating:
            raise ServiceError("invalid", "field 'password': required (at least 8 characters)")
        agent = fields.get("agent", (current or {}).get("agent"))
        if "agent" in fields:
            if agent is not None:
                known = self._known_agents()
                if not isinstance(agent, str) or (known is not None and agent not in known):
                    raise ServiceError("invalid", f"field 'agent': unknown agent {agent!r}")
                await self._agent_free(agent, name)
            out["agent"] = agent
        if role == "agent" and agent is None:
            raise ServiceError(
                "invalid", "field 'agent': required for role 'agent' (the agent id it works as)"
            )
        if "email" in fields:
            email = fields["email"]
            if email is not None and (not isinstance(email, str) or "@" not in email):
                raise ServiceError("invalid", f"field 'email': expected an address, got {email!r}")
            out["email"] = email
        if "statistics" in fields:
            stats = fields["statistics"]
            if stats is not None and not isinstance(stats, bool):
                raise ServiceError(
                    "invalid", f"field 'statistics': expected true, false or null, got {stats!r}"
                )
            out["statistics"] = stats
        if "ssh_keys" in fields:
            out["ssh_keys"] = _ssh_keys(fields["ssh_keys"]) or None
        return out

    async def ssh_keys(self, name: str) -> list[str]:
        """The OpenSSH public key lines that may sign in to the console as ``name``
        (read at each sign-in, so a change through the API or the console applies at once)."""
        async with self._sessions() as session:
            keys = await session.scalar(select(UserRow.ssh_keys).where(UserRow.name == name))
        return list(keys or [])

    async def owners_of(self, agent: str) -> list[str]:
        """The users who work as ``agent`` (an agent with a user is not deleted)."""
        async with self._sessions() as session:
            rows = await session.execute(select(UserRow.name).where(UserRow.agent == agent))
        return [r[0] for r in rows]

    async def _agent_free(self, agent: str, name: str) -> None:
        async with self._sessions() as session:
            other = (
                await session.execute(
                    select(UserRow.name).where(UserRow.agent == agent, UserRow.name != name)
                )
            ).scalar()
        if other is not None:
            raise ServiceError(
                "conflict", f"field 'agent': agent {agent!r} already belongs to user {other!r}"
            )

    # ------------------------------------------------------------------ API tokens

    async def create_token(
        self, actor: Actor, name: str, label: str, scope: str | None = None
    ) -> dict[str, Any]:
        """A new API token for user ``name`` (shown once: only its hash is kept); ``scope``
        limits it to that scope's actions (``access.TOKEN_SCOPES``)."""
        row = await self._row(name)
        if scope is not None:
            if scope not in TOKEN_SCOPES:
                raise ServiceError(
                    "invalid",
                    f"field 'scope': unknown scope {scope!r} (known: {', '.join(TOKEN_SCOPES)})",
                )
            if not principal_of(row).scoped(scope).grants:
                raise ServiceError(
                    "invalid",
                    f"field 'scope': user {name!r} ({row.role}) may not do what scope "
                    f"{scope!r} allows: give the token to a manager or an admin user",
                )
        token = secrets.token_urlsafe(32)
        now = _dt(self._clock())
        async with self._sessions.begin() as session:
            tok = TokenRow(
                user_id=row.id,
                token_hash=token_digest(token),
                kind="api",
                label=label,
                created_at=now,
                scope=scope,
            )
            session.add(tok)
            await session.flush()
            token_id = tok.id
        await self.audit.record(
            actor, "token.created", name, after={"id": token_id, "label": label, "scope": scope}
        )
        return {
            "id": token_id,
            "label": label,
            "scope": scope,
            "token": token,
            "created_at": _iso(now),
        }

    async def tokens(self, name: str) -> list[dict[str, Any]]:
        row = await self._row(name)
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(TokenRow)
                    .where(TokenRow.user_id == row.id, TokenRow.kind == "api")
                    .order_by(TokenRow.id)
                )
            ).scalars()
            return [
                {"id": t.id, "label": t.label, "scope": t.scope, "created_at": _iso(t.created_at)}
                for t in rows
            ]

    async def revoke_token(self, actor: Actor, name: str, token_id: int) -> None:
        row = await self._row(name)
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(TokenRow).where(
                    TokenRow.id == token_id, TokenRow.user_id == row.id, TokenRow.kind == "api"
                )
            )
        if not result.rowcount:
            raise ServiceError("not_found", f"user {name!r} has no API token {token_id}")
        await self.audit.record(actor, "token.revoked", name, before={"id": token_id})


def _ssh_keys(value: Any) -> list[str]:
    """Public key lines as ``[users.NAME] ssh_keys`` takes them (same checks, messages)."""
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ServiceError(
            "invalid", "field 'ssh_keys': expected a list of OpenSSH public key lines"
        )
    for i, key in enumerate(value):
        problem = ssh_public_key_problem(key)
        if problem is not None:
            raise ServiceError(
                "invalid", f"field 'ssh_keys': key {i + 1} ({key[:24]!r}...): {problem}"
            )
    return [" ".join(k.split()) for k in value]


async def _passthrough(user: UserConfig) -> str:
    assert user.password_hash is not None
    return user.password_hash


async def _in_thread(fn: Callable[..., bool], *args: Any) -> bool:
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
