"""Event source mapping parameters (Lambda API names) and the engine's own settings.

Validation happens once, at create time, with AWS's error text where the spec quotes it
(spec 1, 7.1) and otherwise AWS's generic "Value ... at '<field>' failed to satisfy
constraint" wording, so a bad mapping fails the same way it would against Lambda.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harness.esm.errors import EsmValidationError
from harness.esm.sources.dynamodb_streams import STREAM_ARN_RE  # noqa: F401 (kept importable here)
from harness.esm.sources.kind import StreamKind
from harness.esm.sources.registry import KINDS, kind_for_arn
DEST_ARN_RE = re.compile(r"^arn:aws[a-z-]*:(sqs|sns|s3):")
FUNCTION_ARN_RE = re.compile(r"^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)(:[\w$-]+)?$")
FUNCTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_FILTERS = 5

KNOWN_PARAMS = {
    "EventSourceArn", "FunctionName", "Enabled", "BatchSize", "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor", "StartingPosition", "StartingPositionTimestamp", "DestinationConfig",
    "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
    "TumblingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria", "MetricsConfig", "Tags",
}


class MappingConfig(BaseModel):
    """A validated mapping; immutable so a running shard reader never sees it change under it."""

    model_config = ConfigDict(frozen=True)

    EventSourceArn: str
    FunctionName: str  # bare name: what the invoker is called with
    FunctionArn: str
    Enabled: bool = True
    BatchSize: int = 100
    MaximumBatchingWindowInSeconds: int = 0
    ParallelizationFactor: int = 1
    StartingPosition: Literal["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] = "TRIM_HORIZON"
    StartingPositionTimestamp: float | None = None  # epoch seconds, with AT_TIMESTAMP only (spec 10)
    OnFailureDestination: str | None = None
    MaximumRecordAgeInSeconds: int = -1
    BisectBatchOnFunctionError: bool = False
    MaximumRetryAttempts: int = -1
    TumblingWindowInSeconds: int = 0
    FunctionResponseTypes: tuple[str, ...] = ()
    Filters: tuple[str, ...] = ()  # raw pattern strings, echoed back as AWS does
    MetricsConfig: dict[str, Any] | None = None
    # Not API parameters: what the EventSourceArn names. `Source` is the stream kind (the key of
    # sources.registry.KINDS); `StreamArn` is the stream read, which for a Kinesis stream consumer
    # (enhanced fan-out) ARN is the consumer's stream (spec 10).
    Source: str = "dynamodb"
    StreamArn: str = ""

    @property
    def report_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.FunctionResponseTypes

    @property
    def invoke_name(self) -> str:
        """What the invoker is called with: `name:qualifier` for an alias or version ARN (spec 3.2)."""
        m = FUNCTION_ARN_RE.match(self.FunctionArn)
        return f"{self.FunctionName}{m.group(4)}" if m and m.group(4) else self.FunctionName

    @property
    def kind(self) -> StreamKind:
        """How to read this mapping's records (sources/kind.py); look it up once, not per record."""
        return KINDS[self.Source]

    @property
    def stream_arn(self) -> str:
        return self.StreamArn or self.EventSourceArn


def _constraint(value: Any, api_field: str, text: str) -> EsmValidationError:
    # AWS's generic validation shape, e.g. for BatchSize=0 against the Lambda API.
    return EsmValidationError(
        f"1 validation error detected: Value '{value}' at '{api_field}' failed to satisfy constraint: {text}"
    )


def _int(params: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EsmValidationError(f"{name} must be an integer, got {value!r}")
    api_field = name[0].lower() + name[1:]
    if value < lo:
        raise _constraint(value, api_field, f"Member must have value greater than or equal to {lo}")
    if value > hi:
        raise _constraint(value, api_field, f"Member must have value less than or equal to {hi}")
    return value


def _bool(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise EsmValidationError(f"{name} must be a boolean, got {value!r}")
    return value


def _function(name: Any, region: str, account_id: str) -> tuple[str, str]:
    """Accept a bare name or an ARN (spec: FunctionName may be either); return (name, ARN)."""
    if not isinstance(name, str) or not name:
        raise EsmValidationError("FunctionName is required and must be a non-empty string")
    m = FUNCTION_ARN_RE.match(name)
    if m:
        return m.group(3), name
    if name.startswith("arn:"):
        raise EsmValidationError(f"FunctionName {name!r} is not a valid Lambda function ARN")
    if not FUNCTION_NAME_RE.match(name):
        raise _constraint(name, "functionName", "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (1-64 characters)")
    return name, f"arn:aws:lambda:{region}:{account_id}:function:{name}"


def _destination(params: dict[str, Any]) -> str | None:
    cfg = params.get("DestinationConfig")
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise EsmValidationError("DestinationConfig must be an object like {'OnFailure': {'Destination': ARN}}")
    unknown = set(cfg) - {"OnFailure", "OnSuccess"}
    if unknown:
        raise EsmValidationError(f"DestinationConfig has unknown key(s): {', '.join(sorted(unknown))}")
    if cfg.get("OnSuccess"):
        # spec 3.1: "For event source mapping invocations, this is the only accepted condition."
        raise EsmValidationError("DestinationConfig.OnSuccess is not supported for stream event source mappings (spec 3.1)")
    on_failure = cfg.get("OnFailure")
    if on_failure is None:
        return None
    if not isinstance(on_failure, dict) or not isinstance(on_failure.get("Destination", ""), str):
        raise EsmValidationError("DestinationConfig.OnFailure must be {'Destination': '<SQS, SNS or S3 ARN>'}")
    dest = on_failure.get("Destination", "")
    if dest == "":
        return None  # spec 3.1: "" removes the destination
    if len(dest) > 350:
        raise _constraint(dest, "destinationConfig.onFailure.destination", "Member must have length less than or equal to 350")
    if dest.startswith("kafka://"):
        # spec 3.1 [GAP: exact text unknown]: Kafka topics are for Kafka ESMs only.
        raise EsmValidationError(
            f"DestinationConfig.OnFailure.Destination {dest!r}: a Kafka topic is only supported for Kafka event source mappings"
        )
    if not DEST_ARN_RE.match(dest):
        raise EsmValidationError(
            f"DestinationConfig.OnFailure.Destination {dest!r} must be an SQS queue, SNS topic or S3 bucket ARN"
        )
    return dest


def _filters(params: dict[str, Any], kind: StreamKind) -> tuple[str, ...]:
    from harness.esm.filtering import compile_pattern

    fc = params.get("FilterCriteria")
    if fc is None:
        return ()
    if not isinstance(fc, dict) or not isinstance(fc.get("Filters", []), list):
        raise EsmValidationError("FilterCriteria must be {'Filters': [{'Pattern': '<json>'}]}")
    filters = fc.get("Filters", [])
    if len(filters) > MAX_FILTERS:
        raise _constraint(len(filters), "filterCriteria.filters", f"Member must have length less than or equal to {MAX_FILTERS}")
    patterns = []
    for i, f in enumerate(filters):
        if not isinstance(f, dict) or not isinstance(f.get("Pattern"), str):
            raise EsmValidationError(f"FilterCriteria.Filters[{i}] must be {{'Pattern': '<json string>'}}")
        where = f"FilterCriteria.Filters[{i}].Pattern"
        compile_pattern(f["Pattern"], where=where)
        kind.check_filter(json.loads(f["Pattern"]), where)  # spec 10: Kinesis filters only on data
        patterns.append(f["Pattern"])
    return tuple(patterns)


def _timestamp(value: Any, now: float | None) -> float:
    """StartingPositionTimestamp: Unix seconds (CloudFormation's Number) or a datetime (boto3)."""
    if isinstance(value, dt.datetime):
        ts = (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        ts = float(value)
    else:
        raise EsmValidationError(
            f"StartingPositionTimestamp {value!r} must be a time in Unix seconds (a number >= 0) or a datetime")
    if now is not None and ts > now:
        # DOC API_CreateEventSourceMapping: "StartingPositionTimestamp cannot be in the future."
        raise EsmValidationError(f"StartingPositionTimestamp {ts} cannot be in the future (now is {now:.3f})")
    return ts


def _starting_position(params: dict[str, Any], kind: StreamKind, now: float | None) -> tuple[str, float | None]:
    sp = params.get("StartingPosition")
    if sp is None:
        # spec 7.1: required for streams.
        raise EsmValidationError(f"1 validation error detected: StartingPosition is required for {kind.label} event sources")
    if sp == "AT_TIMESTAMP" and sp not in kind.starting_positions:
        # spec 10 (DOC API_CreateEventSourceMapping), AWS's wording.
        raise EsmValidationError(
            "StartingPosition AT_TIMESTAMP is supported only for Amazon Kinesis streams, Amazon DocumentDB, Amazon MSK, and self-managed Apache Kafka."
        )
    if sp not in kind.starting_positions:
        raise _constraint(sp, "startingPosition", f"Member must satisfy enum value set: [{', '.join(kind.starting_positions)}]")
    ts = params.get("StartingPositionTimestamp")
    if ts is not None and sp != "AT_TIMESTAMP":
        # [GAP: AWS's exact text unknown] the timestamp means something only with AT_TIMESTAMP.
        raise EsmValidationError("StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP")
    if sp == "AT_TIMESTAMP":
        if ts is None:
            raise EsmValidationError("StartingPosition AT_TIMESTAMP needs StartingPositionTimestamp (the time to start reading from)")
        return sp, _timestamp(ts, now)
    return sp, None


def parse_mapping(params: dict[str, Any], *, region: str = "us-east-1", account_id: str = "123456789012",
                  now: float | None = None) -> MappingConfig:
    """Validate CreateEventSourceMapping parameters; raise EsmValidationError naming the field.
    `now` (epoch seconds) enables the "StartingPositionTimestamp cannot be in the future" check."""
    if not isinstance(params, dict):
        raise EsmValidationError("event source mapping parameters must be an object")
    unknown = set(params) - KNOWN_PARAMS
    if unknown:
        raise EsmValidationError(f"unknown event source mapping parameter(s): {', '.join(sorted(unknown))}")
    arn = params.get("EventSourceArn")
    kind = kind_for_arn(arn)
    if kind is None:
        shapes = " or a ".join(f"{k.label} ARN ({k.arn_shape})" for k in KINDS.values())
        raise EsmValidationError(f"EventSourceArn {arn!r} is not a {shapes}")
    fname, farn = _function(params.get("FunctionName"), region, account_id)

    sp, sp_ts = _starting_position(params, kind, now)

    age = params.get("MaximumRecordAgeInSeconds", -1)
    if isinstance(age, bool) or not isinstance(age, int) or not (age == -1 or 60 <= age <= 604800):
        # spec 1: the real API error text (terraform-provider-aws #16113).
        raise EsmValidationError(
            "InvalidParameterValueException: MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)"
        )

    frt = params.get("FunctionResponseTypes", [])
    if not isinstance(frt, list) or len(frt) > 1 or any(x != "ReportBatchItemFailures" for x in frt):
        raise _constraint(frt, "functionResponseTypes", "Member must have at most 1 item, each ReportBatchItemFailures")

    pf = _int(params, "ParallelizationFactor", 1, 1, 10)  # spec 7.1; lanes.py
    tw = _int(params, "TumblingWindowInSeconds", 0, 0, 900)  # spec 7.1; tumbling.py
    if pf != 1 and tw != 0:
        # UNFINISHED: AWS documents window state "per shard" and says nothing of windows with
        # concurrent lanes; the harness refuses the combination rather than guess.
        raise EsmValidationError(
            f"ParallelizationFactor={pf} together with TumblingWindowInSeconds={tw} is not supported by the "
            "harness ESM engine (window state is per shard; use one of the two)")
    metrics = params.get("MetricsConfig")
    if metrics is not None and (not isinstance(metrics, dict) or any(m != "EventCount" for m in metrics.get("Metrics", []))):
        raise EsmValidationError("MetricsConfig must be {'Metrics': ['EventCount']}")

    return MappingConfig(
        EventSourceArn=arn,
        FunctionName=fname,
        FunctionArn=farn,
        Enabled=_bool(params, "Enabled", True),
        BatchSize=_int(params, "BatchSize", 100, 1, 10000),
        MaximumBatchingWindowInSeconds=_int(params, "MaximumBatchingWindowInSeconds", 0, 0, 300),
        ParallelizationFactor=pf,
        StartingPosition=sp,
        StartingPositionTimestamp=sp_ts,
        OnFailureDestination=_destination(params),
        MaximumRecordAgeInSeconds=age,
        BisectBatchOnFunctionError=_bool(params, "BisectBatchOnFunctionError", False),
        MaximumRetryAttempts=_int(params, "MaximumRetryAttempts", -1, -1, 10000),
        TumblingWindowInSeconds=tw,
        FunctionResponseTypes=tuple(frt),
        Filters=_filters(params, kind),
        MetricsConfig=metrics,
        Source=kind.name,
        StreamArn=kind.stream_arn_of(arn),
    )


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (n >= 1): initial * factor**(n-1), capped. Spec 1 [GAP]: AWS's cadence
    is undocumented. The defaults (1 s, x2, cap 12 s) reproduce the AWS-OBS count of 8 invocations
    before a 60 s MaximumRecordAgeInSeconds ends an always-failing batch (t = 0,1,3,7,15,27,39,51)."""

    initial_s: float = 1.0
    factor: float = 2.0
    max_s: float = 12.0

    def delay(self, attempt: int) -> float:
        if attempt <= 0:
            return 0.0
        delay = self.initial_s
        for _ in range(min(attempt - 1, 64)):  # stops growing long before a float overflows
            if delay >= self.max_s:
                break
            delay *= self.factor
        return min(self.max_s, delay)


@dataclass(frozen=True)
class EngineSettings:
    """Choices where the spec marks a [GAP]; each default is the spec's recommendation.

    - split_on_every_error / reset_retries_on_split (2.1): bisect on every function error while
      a batch has > 1 record, and give each half a fresh retry count, because "splitting doesn't
      consume the retry quota" and this isolates a poison record even with MaximumRetryAttempts=0.
      With split_on_every_error=False a batch first uses its retries, then splits.
    - first_half_larger (2.1): an odd batch splits ceil/floor (first half larger) so the first
      half, which runs first, makes the most progress; False gives floor/ceil.
    - bisect_on_invalid_response (2.3/2.4): a malformed partial response is a complete failure,
      and 2.4 says a failed invocation is bisected "regardless of your ReportBatchItemFailures".
    - consolidate_bisect_failures (2.1): AWS may merge failed sub-batches into one destination
      record; default off (one record per exhausted sub-batch) because the merge rule is unknown.
      On: adjacent exhausted sub-batches of one original batch with the same condition merge.
    - block_on_destination_failure (7.3): default False: count DestinationDeliveryFailures, count
      the records as dropped, advance. True: retry the write with backoff, the shard waits.
    """

    backoff: Backoff = field(default_factory=Backoff)
    split_on_every_error: bool = True
    reset_retries_on_split: bool = True
    first_half_larger: bool = True
    bisect_on_invalid_response: bool = True
    consolidate_bisect_failures: bool = False
    block_on_destination_failure: bool = False
    max_payload_bytes: int = 6 * 1024 * 1024
    # Spec 8: stream records are trimmed after 24 h. A record still unprocessed then is lost:
    # journaled as dropped (reason retention), not counted in DroppedEventCount (spec 7.2), and
    # [GAP] not sent to the destination. This is what ends a -1/-1 mapping's blocked shard.
    retention_s: float = 86400.0
    # Spec 7.1 / 10: how often a shard is polled: "a base rate of 4 times per second" for DynamoDB
    # Streams, "once per second" per shard for Kinesis. Tests shorten them.
    dynamodb_poll_interval_s: float = 0.25
    kinesis_poll_interval_s: float = 1.0

    def poll_interval(self, kind: StreamKind) -> float:
        """The kind's field above; a kind without one polls at its own documented rate."""
        return float(getattr(self, kind.poll_setting, kind.default_poll_interval_s))


def mapping_response(cfg: MappingConfig, uuid: str, region: str, account_id: str, state: str = "Creating",
                     last_modified: float = 0.0) -> dict[str, Any]:
    """CreateEventSourceMapping's response shape (spec 7.1, AWS-OBS), defaults echoed back."""
    resp: dict[str, Any] = {
        "UUID": uuid,
        "StartingPosition": cfg.StartingPosition,
        "BatchSize": cfg.BatchSize,
        "MaximumBatchingWindowInSeconds": cfg.MaximumBatchingWindowInSeconds,
        "ParallelizationFactor": cfg.ParallelizationFactor,
        "EventSourceArn": cfg.EventSourceArn,
        "FunctionArn": cfg.FunctionArn,
        "LastModified": last_modified,
        "LastProcessingResult": "No records processed",
        "State": state,
        "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {"Destination": cfg.OnFailureDestination}} if cfg.OnFailureDestination else {"OnFailure": {}},
        "MaximumRecordAgeInSeconds": cfg.MaximumRecordAgeInSeconds,
        "BisectBatchOnFunctionError": cfg.BisectBatchOnFunctionError,
        "MaximumRetryAttempts": cfg.MaximumRetryAttempts,
        "TumblingWindowInSeconds": cfg.TumblingWindowInSeconds,
        "FunctionResponseTypes": list(cfg.FunctionResponseTypes),
        "EventSourceMappingArn": f"arn:aws:lambda:{region}:{account_id}:event-source-mapping:{uuid}",
    }
    if cfg.StartingPositionTimestamp is not None:
        resp["StartingPositionTimestamp"] = cfg.StartingPositionTimestamp
    if cfg.Filters:
        resp["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in cfg.Filters]}
    if cfg.MetricsConfig is not None:
        resp["MetricsConfig"] = cfg.MetricsConfig
    return resp
