"""Named pure functions, callable from specs with `call:` and as Jinja2 filters.

Each is generic (no provider knowledge), total on odd input where that is safe,
and returns None for "nothing" (the form engine turns that into an omitted key).
Bad client data raises `TransformError`, which becomes a 400 naming the field.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Iterable
from urllib.parse import quote

import orjson

from .errors import TransformError
from .think import split as _split_think

FUNCTIONS: dict[str, Callable[..., Any]] = {}


def function(fn: Callable) -> Callable:
    """Register `fn` under its own name (a trailing underscore is dropped: `sum_` -> `sum`)."""
    FUNCTIONS[fn.__name__.rstrip("_")] = fn
    return fn


@function
def json_dumps(value: Any) -> str:
    """Compact JSON text, key order kept: `{"a": 1}` -> `'{"a":1}'`."""
    return orjson.dumps(value).decode()


@function
def json_loads(text: Any, empty: Any = None, want: str | None = None) -> Any:
    """Parse JSON text. `empty` is the result for ""/whitespace (e.g. `{}` for tool
    arguments); `want: object` refuses anything but a JSON object."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return empty
    if not isinstance(text, (str, bytes)):
        if want == "object" and not isinstance(text, dict):
            raise TransformError("expected a JSON object")
        return text
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise TransformError(f"not valid JSON: {exc}") from None
    if want == "object" and not isinstance(value, dict):
        raise TransformError("expected a JSON object")
    return value


_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w-]+=[^;,]*)*)(?P<b64>;base64)?,",
                       re.ASCII)


def _data_url(url: Any) -> tuple[str, str] | None:
    if not isinstance(url, str) or not url.startswith("data:"):
        return None
    match = _DATA_URL.match(url)
    if not match or not match.group("b64"):
        raise TransformError("a data: URL must be base64 (data:<mime>;base64,<data>)")
    return match.group("type") or "application/octet-stream", url[match.end():]


@function
def data_url_type(url: Any) -> str | None:
    """`data:image/png;base64,AAA` -> `image/png`; None for a URL that is not a data: URL."""
    parsed = _data_url(url)
    return parsed[0] if parsed else None


@function
def data_url_data(url: Any) -> str | None:
    """`data:image/png;base64,AAA` -> `AAA` (the base64 text, untouched)."""
    parsed = _data_url(url)
    return parsed[1] if parsed else None


@function
def is_data_url(url: Any) -> bool:
    """True for a `data:` URL."""
    return isinstance(url, str) and url.startswith("data:")


@function
def mime_subtype(media_type: Any) -> str | None:
    """`image/jpeg` -> `jpeg`; `image/jpg` -> `jpeg` (the registered name)."""
    if not isinstance(media_type, str) or "/" not in media_type:
        return None
    sub = media_type.split("/", 1)[1].split(";", 1)[0].lower()
    return "jpeg" if sub == "jpg" else sub


@function
def join(items: Any, sep: str = "") -> str | None:
    """Join the strings of a list (None items skipped); None when there are none."""
    if isinstance(items, str):
        return items
    parts = [i for i in (items or ()) if isinstance(i, str)]
    return sep.join(parts) if parts else None


@function
def group(items: Any, key: str) -> dict:
    """A list of objects grouped by their `key` (a string), each group in list order: one
    pass where a spec would otherwise filter the same list once per kind. Items without
    that key are left out; anything but a list gives {} (fields read from it are absent)."""
    out: dict = {}
    if isinstance(items, list):
        for item in items:
            value = item.get(key) if isinstance(item, dict) else None
            if isinstance(value, str):
                found = out.get(value)
                if found is None:
                    out[value] = [item]
                else:
                    found.append(item)
    return out


@function
def concat(*lists: Any) -> list:
    """Concatenate lists; None arguments are skipped, a non-list argument is one item."""
    out: list = []
    for part in lists:
        if part is None:
            continue
        if isinstance(part, list):
            out.extend(part)
        else:
            out.append(part)
    return out


@function
def flatten(lists: Any) -> list | None:
    """One level of nesting removed: [[a], [b, c]] -> [a, b, c]; None when empty."""
    out = concat(*(lists or ()))
    return out or None


@function
def merge_runs(items: Any, key: str = "role", field: str = "content") -> list | None:
    """Consecutive items with the same `key` merged, their `field` lists joined (alternating turns)."""
    if items is None:
        return None
    out: list[dict] = []
    owned = -1   # the run head in `out` already copied: extending its list in place keeps a run linear
    for item in items:
        if out and out[-1].get(key) == item.get(key):
            if owned != len(out) - 1:
                owned = len(out) - 1
                out[owned] = {**out[owned], field: list(out[owned].get(field) or ())}
            out[owned][field].extend(item.get(field) or ())
        else:
            out.append(item)
    return out


def _numbers(values: Iterable[Any]) -> list:
    return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


@function
def sum_(*values: Any) -> int | float | None:
    """Sum of the numbers given (None skipped); None when none is a number."""
    nums = _numbers(values)
    return sum(nums) if nums else None


@function
def min_(*values: Any) -> int | float | None:
    """Smallest of the numbers given (None skipped)."""
    nums = _numbers(values)
    return min(nums) if nums else None


@function
def max_(*values: Any) -> int | float | None:
    """Largest of the numbers given (None skipped)."""
    nums = _numbers(values)
    return max(nums) if nums else None


@function
def first(*values: Any) -> Any:
    """The first argument that is not None (SQL's coalesce)."""
    for value in values:
        if value is not None:
            return value
    return None


@function
def find(items: Any, key: str, equals: Any, take: str | None = None) -> Any:
    """The first item whose dotted `key` equals `equals` (or its dotted `take` field):
    e.g. the function name of the tool call a tool result answers."""
    for item in items or ():
        if _dig(item, key) == equals:
            return _dig(item, take) if take else item
    return None


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@function
def synth_id(prefix: str, *seed: Any) -> str:
    """A deterministic id for things the provider gives none (prefix + hash of `seed`),
    so a stream and its non-stream twin name the same tool call the same way."""
    return prefix + _sha256("\x1f".join(map(str, seed)).encode()).hexdigest()[:24]


def completion_id(model: Any, now: Any, fresh: bool) -> str:
    """The id of a completion whose provider gave none: fresh on live calls (`fresh`), so two
    completions never share one; derived from model and clock when the caller fixed the clock
    (tests, replays), so such a translation is reproducible."""
    return f"chatcmpl-{_random_bits(96):024x}" if fresh else synth_id("chatcmpl-", model, now)


def _random_bits(k: int) -> int:
    """random.getrandbits, imported on first use (cold start need not pay for `random`); the
    module's generator is reseeded in a forked child, so workers never repeat ids."""
    global _random_bits
    from random import getrandbits
    _random_bits = getrandbits
    return getrandbits(k)


def _sha256(data: bytes) -> Any:
    """hashlib.sha256, imported on first use (importing hashlib loads OpenSSL, which cold
    start need not pay); the first call rebinds this name to it, so later calls go direct."""
    global _sha256
    import hashlib
    _sha256 = hashlib.sha256
    return _sha256(data)


_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


@function
def schema_clean(schema: Any, drop: list | None = None) -> Any:
    """Remove the listed keywords everywhere in a JSON Schema, leaving property names alone
    (a property called `default` is data, not the keyword). Copies only what changes: a
    schema without those keywords comes back as it is (tool schemas mostly do)."""
    banned = frozenset(drop or ())
    return _without(schema, banned, False) if banned and isinstance(schema, (dict, list)) else schema


def _without(node: Any, banned: frozenset, names: bool) -> Any:
    """`node` without the `banned` keywords; `names`: node maps property names to schemas.
    Lists of scalars (`required`, `enum`) are passed over without a call: most of a schema."""
    if isinstance(node, list):
        out = None
        for i, item in enumerate(node):
            if isinstance(item, (dict, list)):
                new = _without(item, banned, False)
                if new is not item:
                    if out is None:
                        out = list(node)
                    out[i] = new
        return node if out is None else out
    out = None
    for key, value in node.items():
        if not names and key in banned:
            new = _DROPPED
        elif isinstance(value, dict) or isinstance(value, list) and _has_containers(value):
            new = _without(value, banned, not names and key in _SCHEMA_MAPS)
            if new is value:
                continue
        else:
            continue
        if out is None:
            out = dict(node)
        if new is _DROPPED:
            del out[key]
        else:
            out[key] = new
    return node if out is None else out


def _has_containers(items: list) -> bool:
    for item in items:
        if isinstance(item, (dict, list)):
            return True
    return False


_DROPPED = object()


@function
def text_parts(content: Any) -> list | None:
    """OpenAI content (a string or a list of parts) as a list of parts."""
    if content is None:
        return None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return content
    raise TransformError(f"content must be a string or a list of parts, got {type(content).__name__}")


@function
def text_of(content: Any, sep: str = "\n") -> str | None:
    """The text of OpenAI content: the string itself, or its text parts joined by `sep`."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return join([p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"], sep)
    raise TransformError(f"content must be a string or a list of parts, got {type(content).__name__}")


@function
def nonblank(text: Any) -> Any:
    """The text if it has a non-whitespace character, else None (APIs refuse blank blocks)."""
    return text if isinstance(text, str) and text.strip() else None


@function
def quote_all(text: Any) -> str | None:
    """Percent-encode every reserved character, `/` and `:` included (one URL path label)."""
    return None if text is None else _quote_label(str(text))


@lru_cache(maxsize=4096)  # model ids repeat on every request; quote() is ~1 µs each time
def _quote_label(text: str) -> str:
    return quote(text, safe="")


@function
def as_list(value: Any) -> list | None:
    """A value as a list: `"x"` -> `["x"]`, a list unchanged, None stays None."""
    if value is None:
        return None
    return value if isinstance(value, list) else [value]


@function
def nonempty(value: Any) -> Any:
    """None for empty lists, mappings and strings: lets a spec omit a key instead of sending []."""
    return None if not value and isinstance(value, (list, tuple, dict, str)) else value


@function
def think_text(text: Any) -> str | None:
    """The reasoning a model inlined between <think> tags (None when there is none)."""
    if not isinstance(text, str):
        return None
    return _split_think(text)[0] or None


@function
def strip_think(text: Any) -> str | None:
    """The text without its <think>...</think> reasoning; None when reasoning was all there was
    (a tool-calling turn: OpenAI's content is null there, not "")."""
    if not isinstance(text, str):
        return text
    reasoning, answer = _split_think(text)
    return None if reasoning and not answer.strip() else answer


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> "re.Pattern[str]":
    return re.compile(pattern)


@function
def sub(text: Any, pattern: str, replacement: str = "") -> str | None:
    """Regular-expression substitution (Python `re` syntax): `sub(name, "[^A-Za-z0-9 -]+", " ")`."""
    if not isinstance(text, str):
        return None
    return _pattern(pattern).sub(replacement, text)


@function
def unique(items: Any) -> list | None:
    """The distinct items of a list, first occurrence first (None items dropped)."""
    if not isinstance(items, list):
        return None
    seen: list = []
    for item in items:
        if item is not None and item not in seen:
            seen.append(item)
    return seen or None


@function
def truncate(text: Any, length: int) -> str | None:
    """At most `length` characters."""
    return text[:length] if isinstance(text, str) else None


@function
def merge(*mappings: Any) -> dict | None:
    """Mappings merged left to right (shallow; None skipped): one part built from pieces."""
    out: dict = {}
    for mapping in mappings:
        if isinstance(mapping, dict):
            out.update(mapping)
    return out or None



from . import positions  # noqa: E402,F401 - registers the functions about positions (char_offset, pick, offsets)
