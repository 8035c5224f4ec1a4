"""Access control decisions (roles, permissions, account lockout). Imports nothing of vaxel/."""

from .lockout import LockoutPolicy, LoginRecord, after_failure, after_success, check
from .permissions import (
    ROLE_GRANTS,
    TOKEN_SCOPES,
    Action,
    Decision,
    Principal,
    Role,
    decide,
    grants_for,
)

__all__ = [
    "ROLE_GRANTS",
    "TOKEN_SCOPES",
    "Action",
    "Decision",
    "LockoutPolicy",
    "LoginRecord",
    "Principal",
    "Role",
    "after_failure",
    "after_success",
    "check",
    "decide",
    "grants_for",
]
