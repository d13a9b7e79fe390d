"""`shardproof failures list|show` and `shardproof replay`: thin argument handling over the library.

harness/cli.py adds these with `register(sub)`. Each subcommand sets `func`, returns its exit status
and prints its own one-line errors (exit 2), so the main CLI needs nothing else.

Connection: --endpoint-url/--region, defaulting to `.harness/up.json` (written by `shardproof up`,
read through `harness.up.read_up_state`) when it exists, else AWS's own endpoints and the usual
credential chain. --bucket defaults to the failure bucket of the stack deployed in that `up`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.cli_support import CliError
from harness.failures.model import CONDITIONS
from harness.failures.queue import QueueFailureReader, failure_inbox_name
from harness.failures.store import FailureFilters, FailureStore, Listed, StoreError, function_name_of, parse_match
from harness.invoke import LambdaApiInvoker
from harness.replay.sources import QueueSource
from harness.state_folders import replay_ledger_dir
from harness.replay.replayer import FAILING, Replayer, ReplayProgress, ReplaySummary
from harness.replay.targets import ConsumerTarget, KinesisTarget, SqsTarget, TableTarget, TargetError
from harness.replay.targets.table import REMOVE_RULES

err_console = Console(stderr=True)


class ReplayCliError(CliError):
    """A failures/replay command's user-facing failure: printed as one line, exit status 2."""


# -- parsing helpers ---------------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d+)([smhd])$")


def parse_time(text: str, *, flag: str, now: datetime | None = None) -> datetime:
    """ISO-8601 (`2024-06-10T20:00:00Z`, `2024-06-10`) or an age such as `30m`, `2h`, `1d` ago."""
    m = _RELATIVE.match(text.strip())
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m[2]]
        return (now or datetime.now(timezone.utc)) - timedelta(**{unit: int(m[1])})
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReplayCliError(f"{flag} {text!r}: use ISO-8601 (2024-06-10T20:00:00Z) or an age like 30m, 2h, 1d") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _filters(args: argparse.Namespace) -> FailureFilters:
    try:
        return FailureFilters(
            since=parse_time(args.since, flag="--since") if args.since else None,
            until=parse_time(args.until, flag="--until") if args.until else None,
            condition=args.condition, shard=args.shard, function=args.function,
            match=parse_match(args.match or []),
        )
    except ValueError as exc:
        raise ReplayCliError(str(exc)) from None


def _up_state() -> dict[str, Any]:
    """`shardproof up`'s state; {} when there is none (then the default is AWS, as documented).

    A file that exists but cannot be read as `shardproof up` writes it is an error, not {}: falling
    back to AWS there would send a replay meant for the local stack to a real account.
    """
    from harness import up

    try:
        return up.read_up_state() or {}
    except up.UpStateError as exc:
        raise ReplayCliError(f"{exc}, delete the file to use AWS, or pass --endpoint-url") from None


class Connection:
    """boto3 clients for the chosen endpoint: explicit flags, else `shardproof up`, else AWS."""

    def __init__(self, endpoint_url: str | None, region: str | None) -> None:
        state = _up_state() if endpoint_url is None else {}
        self.endpoint_url = endpoint_url or state.get("endpoint_url")
        self.region = region or state.get("region") or os.environ.get("AWS_REGION") \
            or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.local = self.endpoint_url is not None
        self._clients: dict[str, Any] = {}

    def client(self, service: str, endpoint_url: str | None = None) -> Any:
        endpoint_url = endpoint_url or self.endpoint_url
        cache_key = f"{service}@{endpoint_url}"
        if cache_key not in self._clients:
            import boto3

            kwargs: dict[str, Any] = {"region_name": self.region}
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
                if not os.environ.get("AWS_ACCESS_KEY_ID"):
                    from harness.backends.base import LOCAL_CREDENTIALS

                    kwargs.update(LOCAL_CREDENTIALS)
            self._clients[cache_key] = boto3.client(service, **kwargs)
        return self._clients[cache_key]

    def is_moto(self) -> bool:
        """moto's Lambda must never run code (it would need Docker): detect the embedded backend."""
        if not self.endpoint_url:
            return False
        try:
            with urllib.request.urlopen(f"{self.endpoint_url.rstrip('/')}/moto-api/", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False


def default_bucket(conn: Connection) -> str:
    """The failure bucket of the stack deployed in the running `shardproof up`, when that is unambiguous.

    Only for a connection to that `up`'s backend: its buckets mean nothing on another endpoint.
    """
    state = _up_state()
    if not state:
        raise ReplayCliError("--bucket is required: no `shardproof up` is running (no .harness/up.json) "
                             "whose stack's failure bucket it could default to")
    if conn.endpoint_url != state.get("endpoint_url"):
        raise ReplayCliError(f"--bucket is required: --endpoint-url {conn.endpoint_url} is not the running "
                             f"`shardproof up`'s ({state.get('endpoint_url')}), whose failure bucket is the default")
    buckets = state.get("failure_buckets")
    if buckets is None:
        raise ReplayCliError("--bucket is required: the running `shardproof up` has no stack deployed yet "
                             "(`shardproof deploy`), so it has no failure bucket to default to")
    if not buckets:
        raise ReplayCliError("--bucket is required: the stack deployed in the running `shardproof up` has no "
                             "S3 on-failure destination")
    if len(buckets) > 1:
        raise ReplayCliError(f"the stack deployed in the running `shardproof up` has {len(buckets)} failure buckets "
                             f"({', '.join(buckets)}); pass --bucket with one of them")
    return buckets[0]


def _store(args: argparse.Namespace, conn: Connection) -> Any:
    """The failure records' source: --bucket, --queue or --topic; else the running `up`'s destination."""
    queue, topic = getattr(args, "queue", None), getattr(args, "topic", None)
    if args.bucket is None and queue is None and topic is None:
        single = _single_up_destination(conn)
        if single is not None and single.split(":")[2] in ("sqs", "sns"):
            queue, topic = (single, None) if single.split(":")[2] == "sqs" else (None, single)
    if queue is not None or topic is not None:
        return _queue_source(conn, queue=queue, topic=topic)
    bucket = args.bucket if args.bucket is not None else default_bucket(conn)
    try:
        return FailureStore(conn.client("s3"), bucket, prefix=args.prefix, expected_owner=args.expected_owner,
                            sts_client=conn.client("sts") if args.expected_owner else None)
    except ValueError as exc:
        raise ReplayCliError(str(exc)) from None


def _single_up_destination(conn: Connection) -> str | None:
    """The one on-failure destination of the running `up`'s stack, when there is exactly one."""
    state = _up_state()
    if not state or conn.endpoint_url != state.get("endpoint_url"):
        return None
    found = state.get("failure_destinations") or []
    return found[0] if len(found) == 1 and isinstance(found[0], str) else None


def _queue_source(conn: Connection, *, queue: str | None, topic: str | None) -> QueueSource:
    """A queue's failure records (an SQS destination, or the harness's queue on an SNS topic), read
    without consuming them; their records come back from the stream on the same connection."""
    if topic is not None:
        if not topic.startswith("arn:") or topic.split(":")[2:3] != ["sns"]:
            raise ReplayCliError(f"--topic {topic!r}: give the SNS topic's ARN (arn:aws:sns:<region>:<account>:<name>)")
        try:
            reader = QueueFailureReader(conn.client("sqs"), failure_inbox_name(topic))
        except StoreError:
            raise ReplayCliError(
                f"--topic {topic}: no queue {failure_inbox_name(topic)} is subscribed to it. SNS keeps nothing for "
                "later readers: the harness subscribes that queue when it deploys the stack (`shardproof up`, "
                "`shardproof deploy`); on another deployment, subscribe a queue yourself and pass --queue") from None
    else:
        reader = QueueFailureReader(conn.client("sqs"), str(queue))
    return QueueSource(reader, conn.client, ledger_dir=replay_ledger_dir(Path.cwd()))


def _print_warnings(source: Any) -> None:
    for warning in getattr(source, "warnings", []):
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


# -- rendering ---------------------------------------------------------------------------------

def listed_row(item: Listed) -> dict[str, Any]:
    """The JSON (and table) view of one listed object."""
    if item.record is None:
        return {"key": item.key, "ok": False, "error": item.error,
                "last_modified": item.last_modified.isoformat(), "size": item.size}
    env = item.record.envelope
    info = env.batch_info
    return {
        "key": item.key, "ok": True, "source": env.source, "time": env.timestamp,
        "function": function_name_of(env.requestContext.functionArn),
        "condition": env.requestContext.condition, "shard": info.shardId,
        "sequence_range": [info.startSequenceNumber, info.endSequenceNumber],
        "batch_size": info.batchSize, "invoke_count": env.requestContext.approximateInvokeCount,
        "records": len(item.record.records), "notes": item.record.notes,
        **({"unavailable": item.unavailable} if item.unavailable else {}),
    }


def _list_table(items: list[Listed]) -> Table:
    table = Table(title=f"{len(items)} failure object(s)", show_lines=False)
    for col in ("time", "source", "function", "condition", "shard", "sequence range", "batch", "invokes", "key"):
        table.add_column(col, overflow="fold")
    for item in items:
        row = listed_row(item)
        if not row["ok"]:
            table.add_row(row["last_modified"], "", "", "[red]MALFORMED[/]", "", escape(str(row["error"])), "", "",
                          escape(item.key))
            continue
        lo, hi = row["sequence_range"]
        table.add_row(row["time"], row["source"], escape(row["function"]), row["condition"], escape(row["shard"]),
                      lo if lo == hi else f"{lo}..{hi}", str(row["batch_size"]), str(row["invoke_count"]),
                      escape(item.key))
    return table


def _summary_table(summary: ReplaySummary) -> Table:
    title = ("replay" if summary.execute else "DRY RUN (nothing sent; add --execute)") + f" -> {summary.target_id}"
    table = Table(title=escape(title))
    for col in ("outcome", "seq", "item", "event", "detail"):
        table.add_column(col, overflow="fold")
    for r in summary.results:
        style = "red" if r.outcome in FAILING else ("green" if r.outcome == "replayed" else "")
        outcome = f"[{style}]{r.outcome}[/]" if style else r.outcome
        table.add_row(outcome, r.seq, escape(r.item_key), r.event_name, escape(r.detail))
    return table


# -- commands ----------------------------------------------------------------------------------

def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except (ReplayCliError, StoreError, TargetError, ValueError) as exc:
            err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
            return 2
    run.__name__ = fn.__name__
    return run


@_guarded
def cmd_failures_list(args: argparse.Namespace) -> int:
    conn = Connection(args.endpoint_url, args.region)
    source = _store(args, conn)
    items = source.list(_filters(args))
    _print_warnings(source)
    if args.json:
        print(json.dumps([listed_row(i) for i in items], indent=2))
    else:
        Console().print(_list_table(items))
        bad = sum(1 for i in items if not i.ok)
        if bad:
            err_console.print(f"[yellow]{bad} malformed object(s) listed with the reason[/]")
        for i in items:
            if i.unavailable:
                err_console.print(f"[red]unavailable:[/] {escape(i.unavailable)}", soft_wrap=True)
    return 0


@_guarded
def cmd_failures_show(args: argparse.Namespace) -> int:
    conn = Connection(args.endpoint_url, args.region)
    store = _store(args, conn)
    item = store.get(args.key)
    tags = store.tags(args.key) if isinstance(store, FailureStore) else {}
    if args.json:
        out = listed_row(item) | {"tags": tags}
        if item.record is not None:
            out["envelope"] = item.record.envelope.model_dump(exclude={"payload"})
            out["payload_records"] = item.record.records
        print(json.dumps(out, indent=2, default=str))
        return 0 if item.ok else 1
    console = Console()
    if item.record is None:
        console.print(f"[red]MALFORMED[/] {escape(item.key)}: {escape(str(item.error))}")
        return 1
    row = listed_row(item)
    for name in ("key", "source", "time", "function", "condition", "shard", "batch_size", "invoke_count"):
        console.print(f"[bold]{name}[/]: {escape(str(row[name]))}")
    resp = item.record.envelope.responseContext
    console.print(f"[bold]responseContext[/]: {escape(resp.model_dump_json()) if resp else 'absent'}")
    for note in item.record.notes:
        console.print(f"[yellow]note[/]: {escape(note)}")
    if tags:
        console.print(f"[bold]tags[/]: {escape(json.dumps(tags))}")
    if item.unavailable:
        console.print(f"[red]records unavailable[/]: {escape(item.unavailable)}", soft_wrap=True)
        return 1
    table = Table(title="records")
    for col in ("seq", "event", "keys", "replayOf"):
        table.add_column(col, overflow="fold")
    from harness.replay.plan import item_key_of, PlannedRecord

    for pos, (rec, seq) in enumerate(zip(item.record.records, item.record.sequence_numbers)):
        p = PlannedRecord(item.key, rec, seq, item_key_of(rec), pos)
        table.add_row(p.seq, p.event_name, escape(p.item_key), escape(p.replay_of or ""))
    console.print(table)
    return 0


def _target(args: argparse.Namespace, conn: Connection) -> Any:
    if args.target == "consumer":
        if not args.function_name:
            raise ReplayCliError("--target consumer needs --function-name")
        if conn.is_moto():
            # moto's Lambda must never run code: invoke through `shardproof up`'s local Lambda API instead.
            lambda_url = args.lambda_endpoint_url or _up_state().get("lambda_endpoint_url")
            if not lambda_url:
                raise ReplayCliError(
                    f"--target consumer: {conn.endpoint_url} is the embedded (moto) backend, whose Lambda must not "
                    "run code; pass --lambda-endpoint-url (printed by `shardproof up`) or run `shardproof up`")
            return ConsumerTarget(LambdaApiInvoker(conn.client("lambda", endpoint_url=lambda_url)), args.function_name)
        return ConsumerTarget(LambdaApiInvoker(conn.client("lambda")), args.function_name)
    if args.target == "table":
        if not args.table:
            raise ReplayCliError("--target table needs --table")
        return TableTarget(conn.client("dynamodb"), args.table, removes=args.removes)
    if args.target == "kinesis":
        if not args.stream:
            raise ReplayCliError("--target kinesis needs --stream (a stream name or ARN)")
        return KinesisTarget(conn.client("kinesis"), args.stream)
    if not args.queue_url:
        raise ReplayCliError("--target sqs needs --queue-url")
    return SqsTarget(conn.client("sqs"), args.queue_url)


@_guarded
def cmd_replay(args: argparse.Namespace) -> int:
    conn = Connection(args.endpoint_url, args.region)
    store = _store(args, conn)
    target = _target(args, conn)
    filters = _filters(args)
    show_progress = not args.json and err_console.is_terminal
    progress = Progress(TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.description}"), console=err_console, transient=True,
                        disable=not show_progress)
    task = progress.add_task("", total=None)

    def on_progress(event: ReplayProgress) -> None:
        progress.update(task, total=event.total, completed=event.done,
                        description=f"{event.result.outcome} {event.result.item_key}")

    with progress:
        summary = Replayer(store, target, execute=args.execute, force=args.force, rate=args.rate,
                           progress=on_progress).run(filters)
    _print_warnings(store)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
        return summary.exit_code
    console = Console()
    console.print(_summary_table(summary))
    for key, reason in summary.malformed:
        console.print(f"[red]malformed[/] {escape(key)}: {escape(reason)}")
    for error in summary.errors:
        console.print(f"[red]error[/] {escape(error)}")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items())) or "no records selected"
    verdict = "[green]OK[/]" if summary.ok else "[red]FAILED[/]"
    console.print(f"{verdict} {summary.objects} object(s): {counts}; {summary.elapsed_s:.2f}s")
    return summary.exit_code


# -- registration ------------------------------------------------------------------------------

def _add_common(p: argparse.ArgumentParser, *, filters: bool = True) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--bucket", help="the S3 on-failure destination bucket (default: the destination of the "
                       "stack deployed in the running `shardproof up`)")
    where.add_argument("--queue", metavar="URL|ARN|NAME", help="an SQS on-failure destination: read without "
                       "consuming (messages stay in the queue); the records are read back from the stream")
    where.add_argument("--topic", metavar="ARN", help="an SNS on-failure destination: read from the queue the "
                       "harness subscribed to it when it deployed; the records are read back from the stream")
    p.add_argument("--prefix", default="aws/lambda/", help="key prefix of failure objects (default aws/lambda/)")
    p.add_argument("--endpoint-url", help="backend endpoint (default: .harness/up.json's, else AWS)")
    p.add_argument("--region", help="AWS region (default: .harness/up.json's, AWS_REGION, or us-east-1)")
    p.add_argument("--expected-owner", help="12-digit account that must own the bucket (ExpectedBucketOwner)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    if not filters:
        return
    p.add_argument("--since", help="failures at or after this time (ISO-8601, or an age like 2h)")
    p.add_argument("--until", help="failures at or before this time (ISO-8601, or an age like 30m)")
    p.add_argument("--condition", choices=sorted(CONDITIONS), help="requestContext.condition (spec 3.3)")
    p.add_argument("--shard", help="the batch info's shardId (DDBStreamBatchInfo or KinesisBatchInfo)")
    p.add_argument("--function", help="function name or ARN that failed")
    p.add_argument("--match", action="append", metavar="ATTR=VALUE",
                   help="record attribute in Keys/NewImage/OldImage, e.g. pk=order#1, or a Kinesis record's "
                        "partitionKey or data field, e.g. partitionKey=order-1 (repeatable, all must match)")


def register(subparsers: Any) -> None:
    """Add `failures list`, `failures show KEY` and `replay` to the main CLI's subparsers."""
    failures = subparsers.add_parser("failures", help="list and inspect ESM failure records (S3, SQS or SNS destination)")
    fsub = failures.add_subparsers(dest="failures_command", required=True)
    p = fsub.add_parser("list", help="list failure records (malformed ones with the reason)")
    _add_common(p)
    p.set_defaults(func=cmd_failures_list)
    p = fsub.add_parser("show", help="show one failure record and its records")
    p.add_argument("key", help="the object key (S3), or the message id (--queue, --topic)")
    _add_common(p, filters=False)
    p.set_defaults(func=cmd_failures_show)

    p = subparsers.add_parser("replay", help="replay failure records (dry run unless --execute)")
    _add_common(p)
    p.add_argument("--target", choices=("consumer", "table", "sqs", "kinesis"), required=True,
                   help="where records go")
    p.add_argument("--function-name", help="consumer function to invoke (--target consumer)")
    p.add_argument("--lambda-endpoint-url", help="Lambda Invoke API to use with --target consumer on the embedded "
                   "backend (default: .harness/up.json's, printed by `shardproof up`)")
    p.add_argument("--table", help="table to re-put items to (--target table)")
    p.add_argument("--removes", choices=REMOVE_RULES, default="skip",
                   help="REMOVE events for --target table: skip (default) or re-issue DeleteItem on Keys")
    p.add_argument("--queue-url", help="queue to send records to (--target sqs)")
    p.add_argument("--stream", help="Kinesis stream name or ARN to put records to (--target kinesis)")
    p.add_argument("--execute", action="store_true", help="act; without it, only print what would happen")
    p.add_argument("--force", action="store_true", help="replay records already in the ledger or marked replayOf")
    p.add_argument("--rate", type=float, help="at most this many records per second")
    p.set_defaults(func=cmd_replay)


__all__ = ["Connection", "ReplayCliError", "cmd_failures_list", "default_bucket", "cmd_failures_show", "cmd_replay",
           "listed_row", "parse_time", "register"]
