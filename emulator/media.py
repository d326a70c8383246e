"""What media the emulator received, whatever the dialect: for tests proving bytes arrived intact.

Walks a request body for the base64 shapes providers use (Anthropic `source: {type: base64,
media_type, data}`, Gemini `inlineData: {mimeType, data}`, Bedrock `{format, source: {bytes}}`,
Perplexity `{type: file_url, file_url: {url: <base64>}}`, OpenAI-style `data:` URLs) and records
type, size and a digest of the decoded bytes.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any


def _entry(kind: str, b64: str) -> dict[str, Any] | None:
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return {"type": kind, "bytes": None, "sha256": None}
    return {"type": kind, "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()[:16]}


def _bare_base64(url: Any) -> bool:
    """A Perplexity `file_url.url` that is no URL is the file's own base64 (as the gateway sends a PDF)."""
    return isinstance(url, str) and not url.startswith(("data:", "http://", "https://"))


def received_media(body: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            if node.get("type") == "base64" and isinstance(node.get("data"), str):
                found.append(_entry(str(node.get("media_type")), node["data"]))
            elif isinstance(node.get("mimeType"), str) and isinstance(node.get("data"), str):
                found.append(_entry(node["mimeType"], node["data"]))
            elif isinstance(node.get("format"), str) and isinstance((node.get("source") or {}).get("bytes"), str):
                found.append(_entry(f"{key}/{node['format']}", node["source"]["bytes"]))
            elif node.get("type") == "file_url" and _bare_base64((node.get("file_url") or {}).get("url")):
                found.append(_entry("file_url", node["file_url"]["url"]))
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str) and node.startswith("data:") and ";base64," in node:
            head, _, data = node.partition(";base64,")
            found.append(_entry(head[5:], data))
    walk(body)
    return [f for f in found if f]
