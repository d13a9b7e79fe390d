"""Local test harness for failure handling in DynamoDB Streams -> Lambda pipelines.

Data flow, top to bottom: backends -> deploy -> runtime/esm/notifications -> failures/replay
-> journal -> scenarios/report/cli.
"""

__version__ = "0.1.0"
