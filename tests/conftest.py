"""Fixtures shared by the whole suite (real peers live in tests/peers/)."""

from __future__ import annotations

import sys
from pathlib import Path

# The repo root holds the top-level packages (sip/, media/, ...): make them importable
# even when the project is not installed.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
