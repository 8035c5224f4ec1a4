"""The one error type of the service layer; each front door shows it its own way."""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal[
    "invalid",
    "unauthenticated",
    "forbidden",
    "not_found",
    "conflict",
    "locked",
    "unprocessable",
    "precondition_failed",
    "precondition_required",
]


class ServiceError(Exception):
    """An operation refused, with a message that says what is wrong and what to do.

    ``kind`` is what HTTP shows as 400/401/403/404/409/423/422 and SSH as the message alone.
    """

    def __init__(self, kind: ErrorKind, message: str, **details: object) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details
