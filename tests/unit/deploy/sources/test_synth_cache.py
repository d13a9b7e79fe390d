"""The synth cache: atomic publish, hits marked as used, least recently used entries pruned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.deploy.sources import SourceError
from harness.deploy.sources.synth_cache import MAX_ENTRIES_ENV, RESULT_FILE, SynthCache


def _build(tag: str):  # noqa: ANN202 - a test helper
    def build(work: Path) -> dict[str, str]:
        (work / "cdk.out").mkdir()
        (work / "cdk.out" / "x.json").write_text(json.dumps({"tag": tag}))
        return {"tag": tag}
    return build


def _names(cache: SynthCache) -> set[str]:
    return {p.name for p in cache.root.iterdir()}


def test_publish_then_hit(tmp_path: Path) -> None:
    cache = SynthCache(tmp_path / "c", max_entries=5)
    assert cache.lookup("k1") is None
    entry = cache.publish("k1", _build("one"))
    assert json.loads((entry / RESULT_FILE).read_text()) == {"tag": "one"}
    assert cache.lookup("k1") == entry and _names(cache) == {"k1"}


def test_the_least_recently_used_entry_goes_first_and_a_hit_counts_as_use(tmp_path: Path) -> None:
    cache = SynthCache(tmp_path / "c", max_entries=2)
    cache.publish("a", _build("a"))
    cache.publish("b", _build("b"))
    assert cache.lookup("a") is not None  # a is now more recently used than b
    cache.publish("c", _build("c"))
    assert _names(cache) == {"a", "c"}
    cache.publish("d", _build("d"))
    assert _names(cache) == {"c", "d"}


def test_the_entry_just_published_is_never_removed(tmp_path: Path) -> None:
    cache = SynthCache(tmp_path / "c", max_entries=1)
    for key in ("a", "b", "c"):
        cache.lookup("a")  # keep touching a: still, the new entry is the one kept
        cache.publish(key, _build(key))
        assert _names(cache) == {key}


def test_a_failed_build_leaves_nothing(tmp_path: Path) -> None:
    cache = SynthCache(tmp_path / "c")

    def fail(work: Path) -> dict[str, str]:
        (work / "half").write_text("x")
        raise SourceError("app failed")

    with pytest.raises(SourceError, match="app failed"):
        cache.publish("k", fail)
    assert _names(cache) == set()


def test_a_lost_race_keeps_the_winner(tmp_path: Path) -> None:
    cache = SynthCache(tmp_path / "c")
    winner = cache.publish("k", _build("first"))
    assert cache.publish("k", _build("second")) == winner
    assert json.loads((winner / RESULT_FILE).read_text()) == {"tag": "first"}
    assert _names(cache) == {"k"}


def test_the_limit_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_ENTRIES_ENV, "3")
    assert SynthCache(tmp_path).max_entries == 3
    monkeypatch.delenv(MAX_ENTRIES_ENV)
    assert SynthCache(tmp_path).max_entries == 20
    for bad in ("many", "0"):
        monkeypatch.setenv(MAX_ENTRIES_ENV, bad)
        with pytest.raises(SourceError, match=MAX_ENTRIES_ENV):
            SynthCache(tmp_path)
    with pytest.raises(SourceError, match="at least 1"):
        SynthCache(tmp_path, max_entries=0)
