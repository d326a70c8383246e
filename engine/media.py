"""Which media URLs a target needs as bytes, and putting the bytes in their place.

Some providers take only inline bytes (their image, document and video blocks have no
URL source), so an `image_url` with an https URL must be fetched first. The
engine stays pure: a spec names the part types it needs inline (`media.inline`),
`to_fetch` lists the URLs in a request that are not already `data:` URLs, the
gateway fetches them (with its own limits and address checks), and `inlined`
returns the request with `data:` URLs in their place. Other schemes (`gs://`) are
left to the spec.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# OpenAI content parts that carry a URL, and where (the public contract's own shape).
URL_FIELDS = {"image_url": ("image_url", "url"), "video_url": ("video_url", "url")}


@dataclass(frozen=True)
class MediaRef:
    message: int
    part: int
    kind: str
    url: str

    @property
    def param(self) -> str:
        field, key = URL_FIELDS[self.kind]
        return f"messages[{self.message}].content[{self.part}].{field}.{key}"


def to_fetch(body: dict, kinds: tuple[str, ...]) -> list[MediaRef]:
    """The http(s) URLs of the given part kinds in `body`, in order."""
    refs: list[MediaRef] = []
    if not kinds:
        return refs
    messages = body.get("messages")
    for i, message in enumerate(messages if isinstance(messages, list) else ()):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in kinds or kind not in URL_FIELDS:
                continue
            field, key = URL_FIELDS[kind]
            url = (part.get(field) or {}).get(key) if isinstance(part.get(field), dict) else None
            if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
                refs.append(MediaRef(i, j, kind, url))
    return refs


def inlined(body: dict, resolved: dict[MediaRef, str]) -> dict:
    """A copy of `body` with each fetched URL replaced by its `data:` URL (copies only
    what changes: the caller's request is not mutated)."""
    messages = list(body["messages"])
    for ref, data_url in resolved.items():
        message = dict(messages[ref.message])
        content = list(message["content"])
        field, key = URL_FIELDS[ref.kind]
        part = dict(content[ref.part])
        part[field] = {**part[field], key: data_url}
        content[ref.part] = part
        message["content"] = content
        messages[ref.message] = message
    return {**body, "messages": messages}
