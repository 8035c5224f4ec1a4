"""Read a TOML file into a validated ``VaxelConfig``, or explain exactly what is wrong."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .schema import ConfigReferenceError, VaxelConfig

DEMO_CONFIG = Path(__file__).with_name("demo.toml")


class ConfigError(Exception):
    """A configuration that must not be started. ``problems`` are 'file: key.path: reason'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def load_config(path: str | Path | None = None) -> VaxelConfig:
    """Load and validate ``path`` (the built-in demo configuration when None)."""
    file = Path(path) if path is not None else DEMO_CONFIG
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{file}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: cannot read: {exc}"]) from None
    return parse_config(text, source=str(file))


def parse_config(text: str, *, source: str = "<config>") -> VaxelConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: {_describe_toml_error(exc, text)}"]) from None
    return validate_config(data, source=source)


def validate_config(data: dict[str, Any], *, source: str = "<config>") -> VaxelConfig:
    """Validate already parsed TOML (e.g. a file with edits merged in) like ``parse_config``."""
    try:
        return VaxelConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_validation(exc, data, source)) from None


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)\s*=")


def _describe_toml_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    msg = str(exc)
    if msg.startswith(("Cannot overwrite a value", "Cannot declare")):
        # tomllib often reports a repeated key "at end of document": find it ourselves.
        dup = _find_duplicate_key(text)
        if dup is not None:
            line, table, key = dup
            where = f"[{table}] " if table else ""
            return f"line {line}: duplicate key {key} in {where}(each key may appear only once)"
        return f"duplicate key or table: {msg}"
    return f"invalid TOML: {msg}"


def _find_duplicate_key(text: str) -> tuple[int, str, str] | None:
    table = ""
    seen: set[tuple[str, str]] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if m := _TABLE.match(line):
            table = m.group(1)
            if line.lstrip().startswith("[["):
                continue
            if ("", table) in seen:
                return lineno, "", f"[{table}]"
            seen.add(("", table))
        elif m := _KEY.match(line):
            key = m.group(1).strip("\"'")
            if (table, key) in seen:
                return lineno, table, repr(key)
            seen.add((table, key))
    return None


def _describe_validation(exc: ValidationError, data: dict[str, Any], source: str) -> list[str]:
    problems: list[str] = []
    for err in exc.errors():
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, ConfigReferenceError):
            problems.extend(f"{source}: {path}: {msg}" for path, msg in original.problems)
            continue
        path = ".".join(str(part) for part in err["loc"]) or "(top level)"
        problems.append(f"{source}: {path}: {describe_error(err)}")
    return problems


def describe_error(err: Any) -> str:
    """One pydantic error as the file's messages say it (also for API refusals)."""
    kind = err["type"]
    given = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "string_pattern_mismatch":
        msg = f"has an invalid format (expected pattern {err['ctx']['pattern']})"
    if isinstance(given, dict | list) or msg.endswith(f"got {given!r}"):
        return msg  # the validator's own message already names the value
    return f"{msg}, got {given!r}"
