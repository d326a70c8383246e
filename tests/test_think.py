"""Inline <think> reasoning, split from the answer, whole and incrementally."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.think import TagSplitter, split

TEXT = "<think>\nStep 1. Step 2.\n</think>\n\nThe answer is 4."


def test_split_a_whole_text() -> None:
    assert split(TEXT) == ("\nStep 1. Step 2.\n", "The answer is 4.")
    assert split("no tags here") == ("", "no tags here")
    assert split("a < b and <thin") == ("", "a < b and <thin")


@given(st.lists(st.integers(0, len(TEXT)), max_size=8))
def test_streamed_pieces_split_the_same_way_wherever_they_are_cut(cuts: list[int]) -> None:
    cuts = sorted(cuts)
    splitter = TagSplitter()
    parts = []
    for a, b in zip([0] + cuts, cuts + [len(TEXT)]):
        parts += splitter.feed(TEXT[a:b])
    parts += splitter.close()
    assert "".join(t for k, t in parts if k == "reasoning") == "\nStep 1. Step 2.\n"
    assert "".join(t for k, t in parts if k == "text") == "The answer is 4."


def test_an_unfinished_tag_at_the_end_is_text() -> None:
    splitter = TagSplitter()
    assert splitter.feed("x <thi") == [("text", "x ")]
    assert splitter.close() == [("text", "<thi")]
