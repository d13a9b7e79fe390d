import threading

import pytest

from harness.journal import Journal, JournalTimeout, read_journal


def test_entries_are_ordered_filtered_and_mirrored_to_disk(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.record("injected", key="a")
    j.record("invoked", function="f", attempt=1)
    j.record("injected", key="b")
    assert [e["seq"] for e in j] == [0, 1, 2]
    assert [e["key"] for e in j.entries("injected")] == ["a", "b"]
    assert j.entries("invoked", attempt=1)[0]["function"] == "f"
    j.close()
    assert [e["kind"] for e in read_journal(tmp_path / "j.jsonl")] == ["injected", "invoked", "injected"]


def test_wait_for_wakes_on_a_new_entry_and_times_out_with_what():
    j = Journal()
    threading.Timer(0.05, lambda: j.record("done")).start()
    assert j.wait_for(lambda es: [e for e in es if e["kind"] == "done"], timeout=5, what="done")
    with pytest.raises(JournalTimeout, match="waiting for never"):
        j.wait_for(lambda es: False, timeout=0.1, what="never")
