"""Tiny handler for the deploy fixture app: echoes the number of records it saw."""


def handler(event, context):
    return {"records": len(event.get("Records", []))}
