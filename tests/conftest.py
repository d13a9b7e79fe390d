"""Tests may use the sample stack's own scenario helpers (scenarios/_sample: its orders, wrappers)."""

import sys
from pathlib import Path

SCENARIOS = str(Path(__file__).resolve().parents[1] / "scenarios")
if SCENARIOS not in sys.path:
    sys.path.insert(0, SCENARIOS)
