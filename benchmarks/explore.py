"""`shardproof explore` speed. Prints JSON:
explore_grid_s: wall time (median of 3) of explore over a 100-combination grid (BatchSize 10, 50,
100, 500, 1000 x bisect off/on x MaximumRetryAttempts 0, 1, 2, 5, 10 x partial responses off/on)
on a scenario of 1,000 DynamoDB items, 1% poison, SQS destination: grid, stream records built
once, 100 oracle runs, metrics, Pareto front and recommendation (no stack synthesis: the
pipeline is described from a hand-written template).
explore_grid_runs_s: the three runs, for the noise on a shared machine."""

from __future__ import annotations

import json
import statistics
import time

from harness.deploy.template_reader import describe_template
from harness.explore import explore, make_base, parse_sets
from harness.scenarios.model import Scenario

N = 1000
GRID = ["BatchSize=10,50,100,500,1000", "BisectBatchOnFunctionError=false,true",
        "MaximumRetryAttempts=0,1,2,5,10", "FunctionResponseTypes=none,ReportBatchItemFailures"]
TEMPLATE = {"Resources": {
    "Items": {"Type": "AWS::DynamoDB::Table",
              "Properties": {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                             "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}},
    "Consumer": {"Type": "AWS::Lambda::Function",
                 "Properties": {"Runtime": "python3.12", "Handler": "app.handler", "Code": {"ZipFile": "x"}}},
    "Mapping": {"Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Items", "StreamArn"]},
                               "FunctionName": {"Ref": "Consumer"}, "StartingPosition": "TRIM_HORIZON",
                               "BatchSize": 100, "MaximumRetryAttempts": 2,
                               "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:f"}}}}}}


def once() -> tuple[float, dict]:
    began = time.perf_counter()
    pipeline = describe_template(TEMPLATE, stack_name="Bench").pipeline()
    scenario = Scenario(name="bench", title="bench", items=tuple({"pk": f"item-{i}", "n": i} for i in range(N)),
                        poison=tuple(range(5, N, 100)))
    result = explore(make_base(scenario, pipeline), parse_sets(GRID))
    return time.perf_counter() - began, result


def main() -> None:
    runs = []
    for _ in range(3):
        seconds, result = once()
        runs.append(seconds)
    live = [r for r in result["rows"] if not r.get("skipped")]
    assert len(live) == 100, f"expected 100 simulated combinations, got {len(live)}"
    print(json.dumps({"explore_grid_s": round(statistics.median(runs), 3),
                      "explore_grid_runs_s": [round(s, 3) for s in runs]}))


if __name__ == "__main__":
    main()
