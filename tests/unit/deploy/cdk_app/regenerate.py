"""Re-synthesize the fixture apps and copy each template, asset manifest and asset dirs into ../fixtures."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
APPS = (("app.py", "Fixture", "assembly"), ("stream_stack_app.py", "StreamStack", "stream_stack"))

for script, stack, folder in APPS:
    target = HERE.parent / "fixtures" / folder
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, str(HERE / script)], check=True, env={**os.environ, "CDK_OUTDIR": out})
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for item in Path(out).iterdir():
            if item.name in (f"{stack}.template.json", f"{stack}.assets.json"):
                shutil.copy(item, target / item.name)
            elif item.name.startswith("asset.") and item.is_dir():
                shutil.copytree(item, target / item.name, ignore=shutil.ignore_patterns("__pycache__"))
    print(f"fixture written to {target}")
