"""Every ```toml block in docs/*.md is configuration the loader accepts.

A block with an ``[api]`` table is a whole configuration and is loaded as it
stands; any other block is a fragment, merged table by table onto the demo
configuration (config/demo.toml) as an operator would paste it into theirs.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from config import DEMO_CONFIG, ConfigError, validate_config

DOCS = Path(__file__).resolve().parents[2] / "docs"
_BLOCK = re.compile(r"^```toml[ \t]*\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, int, str]]:
    """(file name, line of the opening fence, text) of every TOML block in the docs."""
    found = []
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text("utf-8")
        for m in _BLOCK.finditer(text):
            found.append((doc.name, text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def _merge(base: dict[str, Any], fragment: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key (recursively); any other value replaces the demo's."""
    out = dict(base)
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


BLOCKS = _blocks()


def test_the_docs_have_toml_examples() -> None:
    # Guards the extraction itself: a changed fence style must not empty the test.
    assert {name for name, _, _ in BLOCKS} >= {"calendars.md", "ivr.md", "operations.md"}


def _problem(text: str) -> str | None:
    """Why the loader rejects a block, or None when it loads."""
    try:
        fragment = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"not valid TOML: {exc}"
    demo = tomllib.loads(DEMO_CONFIG.read_text("utf-8"))
    data = fragment if "api" in fragment else _merge(demo, fragment)
    try:
        validate_config(data, source="block")
    except ConfigError as exc:
        return "rejected by the loader:\n" + "\n".join(exc.problems)
    return None


@pytest.mark.parametrize(
    ("doc", "line", "text"), BLOCKS, ids=[f"{name}:{line}" for name, line, _ in BLOCKS]
)
def test_documented_toml_block_loads(doc: str, line: int, text: str) -> None:
    problem = _problem(text)
    assert problem is None, f"docs/{doc}, ```toml block at line {line}: {problem}"


def test_a_fragment_is_merged_onto_the_demo_and_a_bad_one_is_explained() -> None:
    assert _problem("[queues.support]\nwrap_up = 3\n") is None  # keeps the demo's groups
    assert _problem("[calendar]\ntimezone = 'UTC'\n") == (
        "rejected by the loader:\nblock: calendar: unknown key"
    )
