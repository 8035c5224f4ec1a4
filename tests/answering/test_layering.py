"""The answering service's domain package decides without I/O: it imports nothing of vaxel/
(nor sockets, asyncio or the database)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "answering"
FORBIDDEN = {"vaxel", "asyncio", "socket", "sqlalchemy", "aiohttp"}


def test_answering_imports_no_io_and_nothing_of_vaxel() -> None:
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert len(list(PACKAGE.glob("*.py"))) >= 4 and found == []
