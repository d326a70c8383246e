"""Shared pieces of the pydantic recipe: error type, union-noise summary, lazy-iterable forcing."""
from __future__ import annotations

from typing import Any, Iterable

from pydantic import TypeAdapter, ValidationError

# pydantic-core does not export its lazy iterator type by name; take it from a throwaway adapter.
_ITER_ADAPTER = TypeAdapter(Iterable[int])
ValidatorIterator = type(_ITER_ADAPTER.validate_python([]))


class OracleError(AssertionError):
    """An oracle verdict: the value does not match what the SDK / service model accepts."""


def fmt_path(path: Iterable[Any]) -> str:
    return ".".join(map(str, path)) or "<root>"


def _is_member(p: Any) -> bool:
    """A union-member label in an error `loc`: a model name, or a `union[...]` / `list[...]` tag."""
    return isinstance(p, str) and (p[:1].isupper() or "[" in p)


def _tag_miss(errors: list[dict], d: int) -> bool:
    """Did the member's own `type` / `role` tag (possibly under nested members) fail to match?"""
    for e in errors:
        rest = tuple(e["loc"][d:])
        if e["type"] == "literal_error" and rest and rest[-1] in ("type", "role") and all(map(_is_member, rest[:-1])):
            return True
    return False


def _prune(errors: list[dict], depth: int = 0) -> list[dict]:
    """Keep errors outside unions; at each union site keep only one member's errors: the one
    whose tag matched, else the one with the fewest errors."""
    kept: list[dict] = []
    sites: dict[tuple, dict[Any, list[dict]]] = {}
    for e in errors:
        loc = e["loc"]
        i = next((j for j in range(depth, len(loc)) if _is_member(loc[j])), None)
        if i is None:
            kept.append(e)
        else:
            sites.setdefault(tuple(loc[:i]), {}).setdefault(loc[i], []).append(e)
    for site, members in sites.items():
        d = len(site) + 1
        pruned = [_prune(g, d) for g in members.values()]
        kept += min(pruned, key=lambda g: (_tag_miss(g, d), len(g)))  # tag matched, then fewest errors
    return kept


def summarize(err: ValidationError, n: int = 4, prefix: tuple = ()) -> str:
    """Union-typed fields yield one error set per union member (~100 errors for one bad message).
    pydantic names members in `loc` with CamelCase strings; at each union site keep only the
    member whose tag matched, else the one with the fewest errors."""
    best = _prune(err.errors())
    return "; ".join(f"{fmt_path(prefix + tuple(e['loc']))}: {e['msg']}" for e in best[:n])


def fail(where: str, err: ValidationError, prefix: tuple = ()) -> OracleError:
    return OracleError(f"{where}: {summarize(err, prefix=prefix)}")


def materialize(x: Any, where: str, path: tuple = ()) -> Any:
    """SDK request params are `Iterable[...]`, which pydantic validates LAZILY: a bad message or
    tool passes `validate_python` until iterated. Force every iterator, keeping the full path.
    The adapter that made `x` must still be alive (module level), else pydantic-core panics."""
    if isinstance(x, dict):
        return {k: materialize(v, where, path + (k,)) for k, v in x.items()}
    if isinstance(x, list):
        return [materialize(v, where, path + (i,)) for i, v in enumerate(x)]
    if isinstance(x, ValidatorIterator):
        out: list = []
        it = iter(x)
        while True:
            try:
                v = next(it)
            except StopIteration:
                return out
            except ValidationError as e:
                raise fail(where, e, path) from None  # e's loc starts with the item index
            out.append(materialize(v, where, path + (len(out),)))
    return x
