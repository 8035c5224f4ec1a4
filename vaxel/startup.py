"""Why the server cannot start, in words that name the setting to change."""

from __future__ import annotations

import errno


class StartupError(Exception):
    """The server cannot start; the message says which setting to change."""


def bind_error(what: str, host: str, port: int, exc: OSError) -> StartupError:
    if exc.errno == errno.EADDRINUSE:
        return StartupError(f"{what}: {host}:{port} is already in use (another process listens)")
    if exc.errno == errno.EADDRNOTAVAIL:
        return StartupError(f"{what}: {host} is not an address of this machine")
    if exc.errno == errno.EACCES:
        return StartupError(f"{what}: no permission to bind {host}:{port}")
    return StartupError(f"{what}: cannot bind {host}:{port}: {exc.strerror or exc}")


__all__ = ["StartupError", "bind_error"]
