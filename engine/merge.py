"""`extends:` semantics: JSON Merge Patch (RFC 7386), and nothing else.

Maps merge recursively, scalars replace, `null` deletes a key, lists are replaced
whole. There are no patch directives. Cycles are refused by the loader.
"""
from __future__ import annotations

from typing import Any


def merge_patch(base: Any, patch: Any) -> Any:
    """Apply `patch` to `base` without mutating either."""
    if not isinstance(patch, dict):
        return patch
    out = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out
