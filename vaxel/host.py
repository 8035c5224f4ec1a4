"""What the call stack and the front doors need of the running server.

A Protocol, so that neither ``vaxel/calls`` nor ``vaxel/http`` imports ``vaxel/server.py``
(which builds both): the composition root depends on its parts, never the other way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from config import VaxelConfig

from .events import EventHub
from .storage import CallLog

if TYPE_CHECKING:
    from .calls.wiring import CallStack
    from .services import AuditLog, ReportCentre, UserService
    from .services.administration import ConfigAdmin
    from .services.answering import AnsweringService


class Host(Protocol):
    """The parts of a running server every other part may use."""

    config: VaxelConfig
    base_dir: Path  # the working directory relative paths of the configuration start from
    data_dir: Path
    calllog: CallLog
    events: EventHub
    audit: AuditLog

    @property
    def engine(self) -> AsyncEngine: ...


class ServerView(Host, Protocol):
    """What the HTTP front door sees: the host plus the call stack and the uptime."""

    calls: CallStack | None
    users: UserService
    answering: AnsweringService
    reports: ReportCentre | None
    admin: ConfigAdmin

    def uptime(self) -> float: ...
