"""Injected faults on a running stack: the `faults:` of a scenario file, or `shardproof faults add`
against a running `up`. The rules (which invocation, `times`) are harness.fault_rules; this package
applies them to a live pipeline: the local runtime's fault hook and the ESM's destination sender.
"""

from harness.faults.injector import FaultInjector, FaultTargetError

__all__ = ["FaultInjector", "FaultTargetError"]
