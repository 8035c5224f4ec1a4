"""The application-service layer: operations every front door (HTTP, SSH, web) shares."""

from .agents import AgentService
from .audit import Actor, AuditEntry, AuditLog
from .errors import ServiceError
from .users import UserService

__all__ = ["Actor", "AgentService", "AuditEntry", "AuditLog", "ServiceError", "UserService"]
