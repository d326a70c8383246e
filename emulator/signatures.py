"""Deterministic signatures for thinking blocks and Gemini thought signatures, so the emulator can tell
whether a client replayed exactly what it issued (the real APIs reject altered or missing ones)."""
from __future__ import annotations

import base64
import hashlib
import hmac

import orjson

_SECRET = b"switchboard-emulator-signing-key"

# Documented placeholders Gemini accepts for function calls the model did not produce.
GEMINI_PLACEHOLDERS = frozenset({"skip_thought_signature_validator", "context_engineering_is_the_way_to_go"})


def sign(kind: str, payload: str) -> str:
    """Base64 HMAC of (kind, payload); long enough to look like the opaque provider blobs."""
    mac = hmac.new(_SECRET, kind.encode() + b"\x00" + payload.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"EMU1" + mac + mac[:12]).decode()


def verify(kind: str, payload: str, signature: object) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(signature, sign(kind, payload))


def thinking_signature(thinking: str) -> str:
    """Signature of an Anthropic / Bedrock reasoning block (bound to its text)."""
    return sign("thinking", thinking)


def gemini_call_signature(name: str, args: object) -> str:
    """Gemini thoughtSignature bound to the function call it was issued on (args canonicalised)."""
    canon = orjson.dumps(args, option=orjson.OPT_SORT_KEYS).decode()
    return sign("gemini-fc", f"{name}\x00{canon}")


def gemini_text_signature(text: str) -> str:
    return sign("gemini-text", text)
