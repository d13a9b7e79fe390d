"""Strategies shared by the fuzz tests: arbitrary JSON, and mutations of a valid document.

A mutation (replace a value, delete a key, add a stranger) at a random path of a *valid*
input reaches far deeper into a parser than random JSON, which is refused at the first check.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys / indexes) inside a JSON document, the root excluded."""
    out: list[tuple] = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out.extend(paths(v, prefix + (k,)))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any, values: st.SearchStrategy = json_values) -> tuple[Any, tuple, str]:
    """(document, path, what) with one change at `path`: replaced, deleted, or a key added."""
    doc = copy.deepcopy(base)
    path = draw(st.sampled_from(paths(doc)))
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    last = path[-1]
    what = draw(st.sampled_from(["replace", "delete", "add"]))
    if what == "replace" or (what == "delete" and isinstance(parent, list)):
        parent[last] = draw(values)
        what = "replace"
    elif what == "delete":
        del parent[last]
    else:
        target = parent[last]
        if isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=8))] = draw(values)
        else:
            parent[last] = draw(values)
            what = "replace"
    return doc, path, what
