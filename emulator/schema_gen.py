"""Small JSON Schema instance generator: the fake model must produce tool arguments and
structured output that a strict validator accepts, for both JSON Schema and Gemini's OpenAPI subset."""
from __future__ import annotations

from typing import Any

_MAX_DEPTH = 6


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _type_of(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        non_null = [x for x in t if str(x).lower() != "null"]
        t = non_null[0] if non_null else "null"
    if isinstance(t, str):
        return t.lower()
    if "properties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return None


def _string(schema: dict[str, Any], hint: str) -> str:
    fmt = schema.get("format")
    by_format = {
        "date-time": "2025-01-01T00:00:00Z", "date": "2025-01-01", "time": "12:00:00",
        "email": "user@example.com", "uri": "https://example.com/", "url": "https://example.com/",
        "uuid": "00000000-0000-4000-8000-000000000000", "ipv4": "127.0.0.1", "hostname": "example.com",
    }
    if fmt in by_format:
        return by_format[fmt]
    value = f"{hint or 'value'}-1"
    lo = int(schema.get("minLength", 0) or 0)
    hi = schema.get("maxLength")
    if len(value) < lo:
        value = value + "x" * (lo - len(value))
    if isinstance(hi, int) and len(value) > hi:
        value = value[:hi]
    return value


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    ex_lo = schema.get("exclusiveMinimum")
    ex_hi = schema.get("exclusiveMaximum")
    value: float = 1 if integer else 1.5
    if isinstance(lo, (int, float)):
        value = max(value, lo)
    if isinstance(ex_lo, (int, float)) and not isinstance(ex_lo, bool):
        value = max(value, ex_lo + 1 if integer else ex_lo + 0.5)
    if isinstance(hi, (int, float)):
        value = min(value, hi)
    if isinstance(ex_hi, (int, float)) and not isinstance(ex_hi, bool):
        value = min(value, ex_hi - 1 if integer else ex_hi - 0.25)
    mult = schema.get("multipleOf")
    if integer:
        value = int(value)
        if isinstance(mult, int) and mult > 0 and value % mult:
            value = value + (mult - value % mult)
    return value


def generate(schema: Any, root: dict[str, Any] | None = None, hint: str = "", depth: int = 0) -> Any:
    """Return a deterministic value that satisfies `schema` (best effort for exotic keywords)."""
    if not isinstance(schema, dict):
        return {} if depth == 0 else "value"
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options if isinstance(o, dict) and _type_of(_resolve(o, root)) != "null"]
            return generate((usable or options)[0], root, hint, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, root) if isinstance(part, dict) else {}
            merged.setdefault("properties", {}).update(part.get("properties", {}))
            merged["required"] = list(merged.get("required", [])) + list(part.get("required", []))
            for k, v in part.items():
                merged.setdefault(k, v)
        return generate(merged, root, hint, depth + 1)
    kind = _type_of(schema)
    if kind == "object" or (kind is None and depth == 0):
        return _object(schema, root, depth)
    if kind == "array":
        return _array(schema, root, hint, depth)
    if kind == "string":
        return _string(schema, hint)
    if kind == "integer":
        return _number(schema, True)
    if kind == "number":
        return _number(schema, False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "value"


def _object(schema: dict[str, Any], root: dict[str, Any], depth: int) -> dict[str, Any]:
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = [r for r in schema.get("required", []) if isinstance(r, str)]
    names = list(props) if depth < 2 else [n for n in props if n in required]
    if depth >= _MAX_DEPTH:
        names = [n for n in names if n in required]
    out: dict[str, Any] = {}
    for name in names:
        out[name] = generate(props[name], root, name, depth + 1)
    for name in required:
        if name not in out:
            out[name] = "value"
    min_props = schema.get("minProperties")
    extra = schema.get("additionalProperties")
    if isinstance(min_props, int) and len(out) < min_props and extra is not False:
        for i in range(min_props - len(out)):
            out[f"key{i}"] = generate(extra, root, "key", depth + 1) if isinstance(extra, dict) else "value"
    return out


def _array(schema: dict[str, Any], root: dict[str, Any], hint: str, depth: int) -> list[Any]:
    prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    count = max(int(schema.get("minItems", 1) or 0), len(prefix), 1 if depth < _MAX_DEPTH else 0)
    max_items = schema.get("maxItems")
    if isinstance(max_items, int):
        count = min(count, max_items)
    out = [generate(prefix[i] if i < len(prefix) else items, root, hint, depth + 1) for i in range(count)]
    if schema.get("uniqueItems") and len(out) > 1 and all(isinstance(x, str) for x in out):
        limit = items.get("maxLength")
        out = [f"{x}{i}"[-limit:] if isinstance(limit, int) and limit > 0 else f"{x}{i}" for i, x in enumerate(out)]
    return out
