"""Reasoning inlined in text between tags (`<think>...</think>`), split from the answer.

Some OpenAI-compatible models put their reasoning inline in `content`. `split` does it
for a whole text; `TagSplitter` does it incrementally for a stream, where a tag may be
cut across deltas: text that could be the start of a tag is held back until the next
delta (or the end) decides.
"""
from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


def split(text: str) -> tuple[str, str]:
    """(reasoning, answer) of a whole text."""
    splitter = TagSplitter()
    parts = splitter.feed(text) + splitter.close()
    reasoning = "".join(t for kind, t in parts if kind == "reasoning")
    answer = "".join(t for kind, t in parts if kind == "text")
    return reasoning, answer.lstrip("\n") if reasoning else answer


class TagSplitter:
    def __init__(self) -> None:
        self.inside = False
        self.held = ""
        self.seen_answer = False

    def feed(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        buf = self.held + text
        self.held = ""
        while buf:
            tag = CLOSE if self.inside else OPEN
            at = buf.find(tag)
            if at >= 0:
                self._emit(out, buf[:at])
                self.inside = not self.inside
                buf = buf[at + len(tag):]
                continue
            keep = _partial_suffix(buf, tag)
            self._emit(out, buf[: len(buf) - keep])
            self.held = buf[len(buf) - keep:]
            break
        return out

    def close(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        self._emit(out, self.held)
        self.held = ""
        return out

    def _emit(self, out: list, text: str) -> None:
        if not text:
            return
        if self.inside:
            out.append(("reasoning", text))
            return
        if not self.seen_answer:  # the newline(s) after </think> belong to neither
            text = text.lstrip("\n")
            if not text:
                return
            self.seen_answer = True
        out.append(("text", text))


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0
