"""Named functions whose behaviour is easier to pin with a property than with examples
(the rest are pinned by tests/forms/*.yaml and the specs' own examples)."""
from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.functions import FUNCTIONS

KEYWORDS = ["$schema", "default", "type", "properties", "items", "anyOf", "additionalProperties",
            "$defs", "enum", "title"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "default"]))
schemas = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYWORDS), inner, max_size=4)), max_leaves=15)


def _reference(node: Any, banned: frozenset, names: bool = False) -> Any:
    """A plain copying walk: the meaning schema_clean must keep."""
    if isinstance(node, list):
        return [_reference(n, banned) for n in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {k: _reference(v, banned) for k, v in node.items()}
    return {k: _reference(v, banned, k in ("properties", "patternProperties", "$defs", "definitions",
                                           "dependentSchemas"))
            for k, v in node.items() if k not in banned}


@given(schema=schemas, drop=st.lists(st.sampled_from(KEYWORDS), max_size=3))
def test_schema_clean_removes_keywords_and_copies_only_what_changes(schema: Any, drop: list) -> None:
    before = repr(schema)
    got = FUNCTIONS["schema_clean"](schema, drop)
    assert got == _reference(schema, frozenset(drop))
    assert repr(schema) == before, "the input is not mutated"
    if got == schema:
        assert got is schema, "nothing removed: the schema itself, no copy"


def test_nonempty_drops_empty_containers_and_text_and_keeps_falsy_scalars() -> None:
    from engine.functions import nonempty
    for empty in ([], {}, "", (), None):
        assert nonempty(empty) is None
    for kept in (0, 0.0, False, [0], {"a": None}, " ", "x"):
        assert nonempty(kept) is kept


def test_group_keeps_each_kind_in_list_order_and_leaves_out_items_without_the_key() -> None:
    from engine.functions import group
    blocks = [{"type": "text", "text": "a"}, {"type": "tool_use", "id": "t1"}, {"type": "text", "text": "b"},
              {"text": "no type"}, "not an object", {"type": 3}]
    assert group(blocks, "type") == {"text": [blocks[0], blocks[2]], "tool_use": [blocks[1]]}
    assert group(None, "type") == {} and group({"type": "text"}, "type") == {}


def test_merge_runs_merges_every_run_and_leaves_its_input_alone() -> None:
    from engine.functions import merge_runs
    items = [{"role": "user", "content": [1]}, {"role": "user", "content": [2]}, {"role": "user", "content": None},
             {"role": "assistant", "content": [3]}, {"role": "user", "content": [4]}, {"role": "user", "content": [5]}]
    before = [dict(i) for i in items]
    assert merge_runs(items) == [{"role": "user", "content": [1, 2]}, {"role": "assistant", "content": [3]},
                                 {"role": "user", "content": [4, 5]}]
    assert items == before and items[0]["content"] == [1]


def test_offsets_are_where_each_text_starts_once_joined() -> None:
    from engine.functions import FUNCTIONS
    offsets = FUNCTIONS["offsets"]
    texts = ["I'll look. ", "Spain won", ", 2–1", ""]
    got = offsets(texts)
    assert got == [0, 11, 20, 25, 25]
    joined = "".join(texts)
    assert [joined[got[i]:got[i + 1]] for i in range(len(texts))] == texts
    assert offsets(None) is None and offsets([None, "ab"]) == [0, 0, 2]
