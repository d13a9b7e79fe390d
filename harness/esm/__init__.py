"""The harness's event source mapping engine for DynamoDB Streams and Kinesis (spec: esm-semantics.md).

Public surface: EsmService (the Lambda ESM API plus shard readers), run_simulation (the
oracle behind `shardproof simulate`), the destination senders, and the error types.
"""

from harness.esm.clock import RealClock, VirtualClock
from harness.esm.config import Backoff, EngineSettings, MappingConfig, parse_mapping
from harness.esm.destinations import Boto3Destinations, DestinationSender, InMemoryDestinations
from harness.esm.errors import DestinationDeliveryError, EsmValidationError
from harness.esm.service import EsmService
from harness.esm.simulate import SimulationSpecError, run_simulation

__all__ = [
    "Backoff", "Boto3Destinations", "DestinationDeliveryError", "DestinationSender", "EngineSettings",
    "EsmService", "EsmValidationError", "InMemoryDestinations", "MappingConfig", "RealClock",
    "SimulationSpecError", "VirtualClock", "parse_mapping", "run_simulation",
]
