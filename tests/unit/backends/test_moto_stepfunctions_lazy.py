"""moto's Step Functions interpreter (about a second to import) loads only when a stack uses it,
and the StartExecution naming fix still applies once it does."""

from __future__ import annotations

import subprocess
import sys


def test_the_backend_starts_without_importing_the_interpreter_and_patches_it_on_first_import() -> None:
    code = (
        "import sys\n"
        "from harness.backends import moto_stepfunctions as m\n"
        "import harness.backends.embedded\n"
        "m.install()\n"
        "print(m.MODULE in sys.modules)\n"
        "from moto.stepfunctions.parser.models import StepFunctionsParserBackend as B\n"
        "print(getattr(B.start_execution, '_shardproof_named', False))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
