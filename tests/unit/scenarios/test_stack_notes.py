"""A scenario's result names what the local deploy only stood in for (the report shows these notes)."""

from __future__ import annotations

from harness.scenarios.notes import stack_notes


def test_stood_in_resources_and_failed_custom_resources_reach_the_result_notes() -> None:
    entries = [
        {"kind": "deploy_note", "logical_id": "Cdn", "note": "stood in: AWS::CloudFront::Distribution not created"},
        {"kind": "deploy_note", "logical_id": "Retention", "note": "stood in: Custom::LogRetention is a custom "
                                                                   "resource whose provider P did not create it"},
        {"kind": "deploy_note", "logical_id": "Fn", "note": "Lambda permission recorded only"},
    ]
    assert stack_notes(entries)["notes"] == [
        "Cdn: stood in: AWS::CloudFront::Distribution not created",
        "Retention: stood in: Custom::LogRetention is a custom resource whose provider P did not create it"]
