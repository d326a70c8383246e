"""The fake model's argument generator must satisfy the schemas gateways pass through."""
from __future__ import annotations

import jsonschema
import pytest

from emulator.schema_gen import generate

SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "string", "format": "date-time"}, "b": {"type": ["integer", "null"],
     "exclusiveMinimum": 5}}, "required": ["a", "b"], "additionalProperties": False},
    {"type": "object", "properties": {"items": {"type": "array", "minItems": 3, "maxItems": 3, "uniqueItems": True,
     "items": {"type": "string", "maxLength": 3}}}, "required": ["items"]},
    {"type": "object", "properties": {"node": {"$ref": "#/$defs/node"}}, "required": ["node"],
     "$defs": {"node": {"type": "object", "properties": {"v": {"const": 3}, "kids": {"type": "array",
                        "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}}},
    {"type": "object", "properties": {"x": {"anyOf": [{"type": "null"}, {"type": "number", "maximum": 0.5}]},
     "y": {"allOf": [{"type": "object", "properties": {"p": {"type": "boolean"}}, "required": ["p"]}]},
     "z": {"type": "integer", "multipleOf": 4, "minimum": 9}}, "required": ["x", "y", "z"]},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_values_validate(schema: dict) -> None:
    jsonschema.validate(generate(schema), schema)


def test_gemini_uppercase_types() -> None:
    value = generate({"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}, "s": {"type": "STRING",
                      "enum": ["x", "y"]}}, "required": ["n", "s"]})
    assert value == {"n": 1, "s": "x"}
