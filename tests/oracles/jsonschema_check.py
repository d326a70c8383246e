"""Tool JSON Schemas: every SDK types tool `parameters` as an opaque dict, so the schemas and the
arguments that must satisfy them are checked with `jsonschema` (tested: 4.26)."""
from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.validators import validator_for

from ._common import OracleError

__all__ = ["OracleError", "check_arguments", "check_instance", "check_schema"]

_DEFAULT = jsonschema.Draft202012Validator


def check_schema(schema: Any) -> None:
    """`schema` is a valid JSON Schema under its `$schema` draft (default 2020-12)."""
    if not isinstance(schema, (dict, bool)):
        raise OracleError(f"schema: expected an object, got {type(schema).__name__}")
    cls = validator_for(schema, default=_DEFAULT)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise OracleError(f"schema {e.json_path}: {e.message}") from None


def check_instance(schema: Any, instance: Any) -> None:
    """`instance` satisfies `schema` (the schema is checked first). Reports every violation."""
    check_schema(schema)
    v = validator_for(schema, default=_DEFAULT)(schema)
    errs = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errs:
        raise OracleError("; ".join(f"{e.json_path}: {e.message}" for e in errs[:6]))


def check_arguments(schema: Any, arguments: str) -> Any:
    """An OpenAI `tool_calls[].function.arguments` string: JSON text whose value satisfies `schema`."""
    if not isinstance(arguments, str):
        raise OracleError(f"arguments: expected JSON text (str), got {type(arguments).__name__}")
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as e:
        raise OracleError(f"arguments is not JSON text: {e}") from None
    check_instance(schema, value)
    return value
