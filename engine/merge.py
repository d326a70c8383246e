"""`extends:` semantics: JSON Merge Patch (RFC 7386), with one stated exception.

Maps merge recursively, scalars replace, lists are replaced whole, and `null`
deletes a key of the base. The exception: a `null` on a key the base does not have
is kept as a null value, because spec nodes use null as data (`default: null`
writes an explicit null); RFC 7386 would silently drop it. There are no patch
directives. Cycles are refused by the loader.
"""
from __future__ import annotations

from typing import Any


def merge_patch(base: Any, patch: Any) -> Any:
    """Apply `patch` to `base` without mutating either."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return patch
    out = dict(base)
    for key, value in patch.items():
        if value is None and key in base:
            del out[key]
        elif key in base:
            out[key] = merge_patch(base[key], value)
        else:
            out[key] = value
    return out
