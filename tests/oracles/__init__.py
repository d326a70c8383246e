"""Test oracles: checks built from the providers' own SDK types and service models.

Nothing here is engine code; every verdict comes from code nobody on the project wrote
(openai / anthropic / google-genai / cohere SDK types, botocore's service model, jsonschema).
Every ``check_*`` raises :class:`OracleError` (an ``AssertionError``) with a path-bearing message.
"""
from ._common import OracleError

__all__ = ["OracleError"]
