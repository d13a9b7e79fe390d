"""The journal with a file keeps only recent entries in memory; everything must still read back equal."""

import json
import threading

import pytest

from harness.journal import Journal, JournalFileError, read_journal


def _fill(j: Journal, n: int) -> list[dict]:
    kinds = ["injected", "invoked", "function_log"]
    return [j.record(kinds[i % 3], n=i, pk=f"order-{i}", seqs=[str(i), str(i + 1)], meta={"ok": i % 2 == 0})
            for i in range(n)]


def test_a_journal_with_a_file_holds_only_recent_entries_yet_returns_all_of_them(tmp_path):
    j = Journal(tmp_path / "j.jsonl", memory_entries=10)
    recorded = _fill(j, 200)
    assert len(j._recent) <= 10 + 10 // 8 + 1  # bounded: the other ~190 live in the file only
    assert len(j) == 200
    assert j.entries() == recorded
    assert list(j) == recorded
    assert j.entries("invoked") == [e for e in recorded if e["kind"] == "invoked"]
    assert j.entries("function_log", n=5) == [recorded[5]]
    assert j.entries(n=4) == [recorded[4]]
    assert j.entries("never-recorded") == []
    assert j.entries("injected", n=1) == []


def test_without_a_file_nothing_is_evicted_and_kind_lookups_keep_order():
    j = Journal(memory_entries=3)
    recorded = _fill(j, 40)
    assert len(j._recent) == 40
    assert j.entries() == recorded and j.entries()[0] is recorded[0]
    assert [e["n"] for e in j.entries("invoked")] == list(range(1, 40, 3))


def test_entries_that_json_would_change_stay_in_memory_as_recorded(tmp_path):
    j = Journal(tmp_path / "j.jsonl", memory_entries=2)
    odd = j.record("odd", pair=(1, 2), raw=b"\x00", by_int={1: "one"})
    recorded = [odd] + _fill(j, 30)
    assert j._base > 0 and odd["seq"] < j._base  # evicted from the recent window...
    assert j.entries("odd") == [odd] and type(j.entries("odd")[0]["pair"]) is tuple  # ...but not changed
    assert j.entries() == recorded
    # The file still has its (stringified) line, as before.
    assert read_journal(tmp_path / "j.jsonl")[0]["raw"] == "b'\\x00'"


def test_entries_read_back_after_close_and_entries_recorded_after_close_are_kept(tmp_path):
    j = Journal(tmp_path / "j.jsonl", memory_entries=4)
    recorded = _fill(j, 30)
    j.close()
    recorded += _fill(j, 30)  # not in the file, so they must never be evicted
    assert j.entries() == recorded
    assert len(read_journal(tmp_path / "j.jsonl")) == 30


def test_appending_to_an_existing_journal_file_reads_back_this_journals_entries(tmp_path):
    path = tmp_path / "j.jsonl"
    first = Journal(path, memory_entries=3)
    _fill(first, 20)
    first.close()
    second = Journal(path, memory_entries=3)
    recorded = _fill(second, 20)  # same seqs 0..19 as the first journal's lines before them
    assert second.entries() == recorded
    assert len(read_journal(path)) == 40


def test_a_file_changed_under_an_open_journal_is_an_error_naming_it(tmp_path):
    path = tmp_path / "j.jsonl"
    j = Journal(path, memory_entries=2)
    _fill(j, 20)
    path.write_text("")  # someone truncated the file
    with pytest.raises(JournalFileError, match=r"j\.jsonl: entry 0 is not at byte 0"):
        j.entries()


def test_a_failed_write_loses_no_entry_and_stops_evicting(tmp_path):
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no str")

    j = Journal(tmp_path / "j.jsonl", memory_entries=2)
    recorded = _fill(j, 10)
    with pytest.raises(RuntimeError, match="no str"):
        j.record("bad", value=Unprintable())
    recorded += _fill(j, 20)
    got = j.entries()
    assert [e["seq"] for e in got] == list(range(31))
    assert got[10]["kind"] == "bad" and [e for e in got if e["kind"] != "bad"] == recorded


def test_wait_for_sees_spilled_entries_through_a_view_not_a_copy(tmp_path):
    j = Journal(tmp_path / "j.jsonl", memory_entries=5)
    recorded = _fill(j, 50)
    seen = {}

    def predicate(es):
        seen["type"] = type(es)
        seen["len"] = len(es)
        seen["first"], seen["last"], seen["slice"] = es[0], es[-1], es[2:4]
        return [e for e in es if e["kind"] == "done"]

    threading.Timer(0.05, lambda: j.record("done", n=-1)).start()
    [done] = j.wait_for(predicate, timeout=5, what="done")
    assert done["seq"] == 50 and seen["len"] == 51
    assert seen["first"] == recorded[0] and seen["last"] == done and seen["slice"] == recorded[2:4]
    assert seen["type"] is not list
    assert j.wait_for(lambda es: es, timeout=1, what="anything") == recorded + [done]  # a list, not the view
    with pytest.raises(IndexError):
        j.wait_for(lambda es: es[51], timeout=1, what="past the end")


def test_concurrent_writers_and_readers_see_every_entry_once_in_order(tmp_path):
    j = Journal(tmp_path / "j.jsonl", memory_entries=16)
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(w: int) -> None:
        for i in range(400):
            j.record("w", writer=w, i=i)

    def read() -> None:
        try:
            while not stop.is_set():
                seqs = [e["seq"] for e in j.entries("w")]
                assert seqs == sorted(set(seqs))
                for w in range(4):
                    mine = [e["i"] for e in j.entries("w", writer=w)]
                    assert mine == list(range(len(mine)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors, errors[0]
    assert [e["seq"] for e in j.entries()] == list(range(1600))
    assert sorted((e["writer"], e["i"]) for e in j) == [(w, i) for w in range(4) for i in range(400)]


def test_memory_entries_must_be_positive():
    with pytest.raises(ValueError, match="memory_entries"):
        Journal(memory_entries=0)


# read_journal: bad lines name the file and line


def _write(path, *lines: str, tail: str = "") -> None:
    path.write_text("".join(line + "\n" for line in lines) + tail, encoding="utf-8")


def test_a_corrupt_middle_line_is_an_error_naming_file_and_line(tmp_path):
    path = tmp_path / "j.jsonl"
    _write(path, json.dumps({"seq": 0}), '{"seq": 1, "kind": ', json.dumps({"seq": 2}))
    with pytest.raises(JournalFileError, match=r"j\.jsonl: line 2: not valid JSON") as info:
        read_journal(path)
    assert isinstance(info.value, json.JSONDecodeError) and info.value.lineno == 2


def test_blank_lines_are_skipped_and_a_valid_non_object_line_is_returned_for_the_caller_to_judge(tmp_path):
    path = tmp_path / "j.jsonl"
    _write(path, json.dumps({"seq": 0}), "", "[1, 2]")
    assert read_journal(path) == [{"seq": 0}, [1, 2]]  # report.from_journal names such a line itself


def test_a_truncated_last_line_is_skipped_with_a_warning_or_refused_when_strict(tmp_path):
    path = tmp_path / "j.jsonl"
    _write(path, json.dumps({"seq": 0}), json.dumps({"seq": 1}), tail='{"seq": 2, "kind": "inv')
    with pytest.warns(RuntimeWarning, match=r"j\.jsonl: line 3: skipped a truncated last entry"):
        assert [e["seq"] for e in read_journal(path)] == [0, 1]
    with pytest.raises(JournalFileError, match=r"line 3: truncated last entry"):
        read_journal(path, strict=True)


def test_a_complete_last_line_without_newline_is_kept_and_a_corrupt_last_line_with_one_is_not(tmp_path):
    path = tmp_path / "j.jsonl"
    _write(path, json.dumps({"seq": 0}), tail=json.dumps({"seq": 1}))
    assert [e["seq"] for e in read_journal(path)] == [0, 1]
    _write(path, json.dumps({"seq": 0}), '{"seq": 1,')  # newline written: not a crash mid-write
    with pytest.raises(JournalFileError, match="line 2: not valid JSON"):
        read_journal(path)


def test_invalid_utf8_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"seq": 0}\n{"seq": "\xff"}\n')
    with pytest.raises(JournalFileError, match="line 2"):
        read_journal(path)
