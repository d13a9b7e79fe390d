"""Deploy: turn a stack source into a template (sources/; synth.py for the sample) and apply it
to a local backend (apply.py)."""

from __future__ import annotations

from harness.deploy.apply import DeployedResource, DeployedStack, apply_template
from harness.deploy.errors import DependencyCycleError, DeployError, IntrinsicError, UnsupportedResourceError

__all__ = [
    "DeployedResource",
    "DeployedStack",
    "DeployError",
    "DependencyCycleError",
    "IntrinsicError",
    "UnsupportedResourceError",
    "apply_template",
]
