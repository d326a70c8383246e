"""Safe YAML loading: plain data only, duplicate keys refused.

`yaml.safe_load` already refuses `!!python/object` tags; it silently keeps the last of
two equal keys, which hides spec mistakes, so this loader refuses them too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` merges are explicit overrides, not duplicates
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen[key] = 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: Path, label: str | None = None) -> Any:
    """Parse one YAML file; any problem is a `SpecError` naming the file and line."""
    label = label or path.name
    return loads_yaml(decoded(read_bytes(path, label), label), label)


def read_bytes(path: Path, label: str) -> bytes:
    """A data file's bytes (content-keyed caches hash them); unreadable is a `SpecError`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=label) from None


def decoded(raw: bytes, label: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("not valid UTF-8", file=label) from None


def loads_yaml(text: str, label: str) -> Any:
    try:
        return _json_keys(yaml.load(text, Loader=_Loader))  # noqa: S506 - the loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"not valid YAML: {problem}", file=label, where=where) from None


def _json_keys(value: Any) -> Any:
    """YAML allows non-string keys (`529:`, `true:`); the data model is JSON's: keys are text."""
    if isinstance(value, dict):
        return {_key_text(k): _json_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_keys(v) for v in value]
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return key if isinstance(key, str) else str(key)
