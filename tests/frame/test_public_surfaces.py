"""Each package's public surface is its ``__init__.py``: other packages import through it,
and only names it exports (so the surface is what is used, and a type checker sees it)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "access",
    "sip",
    "media",
    "acd",
    "ivr",
    "prompts",
    "config",
    "callcore",
    "calllog",
    "reports",
    "answering",
)
IMPORTERS = (*PACKAGES, "vaxel")


def _cross_package_imports() -> list[tuple[str, int, str, list[str]]]:
    found = []
    for own in IMPORTERS:
        for path in sorted((ROOT / own).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
                    continue
                top = node.module.split(".")[0]
                if top in PACKAGES and top != own:
                    rel = str(path.relative_to(ROOT))
                    found.append((rel, node.lineno, node.module, [a.name for a in node.names]))
    return found


def test_other_packages_import_through_the_package_not_its_modules() -> None:
    deep = [
        f"{path}:{line}: from {module} import ..."
        for path, line, module, _ in _cross_package_imports()
        if "." in module and not module.split(".")[1].startswith("_")
    ]
    assert deep == [], "import these from the package itself:\n" + "\n".join(deep)


@pytest.mark.parametrize("package", PACKAGES)
def test_what_others_import_is_exported(package: str) -> None:
    exported = set(importlib.import_module(package).__all__)
    used = {
        (name, f"{path}:{line}")
        for path, line, module, names in _cross_package_imports()
        if module == package
        for name in names
    }
    missing = sorted(f"{where}: {name}" for name, where in used if name not in exported)
    assert missing == [], f"{package}/__init__.py does not export:\n" + "\n".join(missing)
