"""Structured logging: one logfmt line per event, with the call id when there is one.

Use ``log_event(logger, "call.arrived", call_id=..., queue=...)``; plain ``logger.info``
calls still come out as one line with ``event=`` holding the message.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def _quote(value: Any) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "=\n\t'):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        parts = [
            f"ts={ts}.{int(record.msecs):03d}Z",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"event={_quote(record.getMessage())}",
        ]
        call_id = getattr(record, "call_id", None)
        if call_id is not None:
            parts.append(f"call_id={_quote(call_id)}")
        for key, value in record.__dict__.items():
            if key in _RESERVED or key == "call_id" or key.startswith("_"):
                continue
            parts.append(f"{key}={_quote(value)}")
        if record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


def setup_logging(level: str = "info", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library chatter (aiohttp access lines, alembic) stays at warning unless debugging.
    quiet = logging.DEBUG if level == "debug" else logging.WARNING
    for name in ("aiohttp.access", "alembic", "aiosqlite", "asyncssh"):
        logging.getLogger(name).setLevel(quiet)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event; ``fields`` become key=value pairs."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={k: v for k, v in fields.items() if v is not None})
