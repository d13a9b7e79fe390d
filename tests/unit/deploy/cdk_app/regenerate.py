"""Re-synthesize app.py and copy the template, asset manifest and asset dirs into ../fixtures/assembly."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
TARGET = HERE.parent / "fixtures" / "assembly"

with tempfile.TemporaryDirectory() as out:
    subprocess.run([sys.executable, str(HERE / "app.py")], check=True, env={**os.environ, "CDK_OUTDIR": out})
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    for item in Path(out).iterdir():
        if item.name in ("Fixture.template.json", "Fixture.assets.json"):
            shutil.copy(item, TARGET / item.name)
        elif item.name.startswith("asset.") and item.is_dir():
            shutil.copytree(item, TARGET / item.name, ignore=shutil.ignore_patterns("__pycache__"))
print(f"fixture written to {TARGET}")
