"""Stack source tests share sources_testkit.py (pytest's importlib mode puts no test folder on sys.path,
so the folder is added here)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
