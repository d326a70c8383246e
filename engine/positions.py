"""Named functions about positions: where a piece sits in a text or a list.

Registered into `functions.FUNCTIONS` like the others (this module is imported at the end of
engine/functions.py); pure and total on odd input (None for "nothing").
"""
from __future__ import annotations

from typing import Any

from .functions import function


def _index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@function
def char_offset(text: Any, byte_index: Any) -> int | None:
    """A UTF-8 byte offset into `text` as a character offset (providers that count bytes)."""
    if not isinstance(text, str) or not _index(byte_index):
        return None
    return len(text.encode("utf-8")[:max(byte_index, 0)].decode("utf-8", "ignore"))


@function
def pick(items: Any, index: Any) -> Any:
    """The item at `index` (an index read from the data), or None."""
    if isinstance(items, list) and _index(index) and -len(items) <= index < len(items):
        return items[index]
    return None


@function
def offsets(texts: Any) -> list[int] | None:
    """Where each of `texts` starts once they are joined, then the joined length: [0, len(t0),
    len(t0)+len(t1), ...]. Text i spans offsets[i]..offsets[i+1] (a citation on one of several
    text blocks, as the message's character indices)."""
    if not isinstance(texts, list):
        return None
    out = [0]
    for text in texts:
        out.append(out[-1] + (len(text) if isinstance(text, str) else 0))
    return out
