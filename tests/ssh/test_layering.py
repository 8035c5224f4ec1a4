"""A front door never imports another: the console reaches the centre through vaxel/services."""

from __future__ import annotations

import ast
from pathlib import Path

SSH = Path(__file__).resolve().parents[2] / "vaxel" / "ssh"


def test_the_console_does_not_import_the_http_front_door() -> None:
    offenders = []
    for source in sorted(SSH.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{source.name}: {n}" for n in names if n.startswith("vaxel.http")]
    assert offenders == []
