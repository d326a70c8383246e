"""A fake web search for the emulated server-side search tools (Gemini / Vertex `googleSearch`, Anthropic
`web_search_20250305`): two sources and a two-sentence grounded answer about the user's question.

The first sentence holds non-ASCII characters (curly quotes, an em dash, `é`), so UTF-8 byte offsets (what
Gemini's groundingSupports report) and character offsets differ for everything after it."""
from __future__ import annotations

from dataclasses import dataclass

from emulator import fake_model as fm


@dataclass(frozen=True)
class Source:
    url: str
    title: str
    domain: str
    snippet: str


@dataclass(frozen=True)
class Grounded:
    query: str
    sentences: tuple[str, str]   # joined by one space
    sources: tuple[Source, Source]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def byte_span(self, n: int) -> tuple[int, int]:
        """UTF-8 byte offsets [start, end) of sentence n in `text`."""
        start = len(" ".join(self.sentences[:n]).encode()) + (1 if n else 0)
        return start, start + len(self.sentences[n].encode())

    def char_span(self, n: int) -> tuple[int, int]:
        start = len(" ".join(self.sentences[:n])) + (1 if n else 0)
        return start, start + len(self.sentences[n])


def search(question: str) -> Grounded:
    query = " ".join(question.split()[:8]) or "news"
    key = fm.stable_id("", query, length=10)
    sources = (Source(f"https://example.org/search/{key}", f"Café Zoë — notes on {query}", "example.org",
                      f"Our notes on {query}: the short answer, with sources."),
               Source(f"https://almanac.example.net/entries/{key}", f"Almanac entry: {query}", "almanac.example.net",
                      f"The almanac's entry on {query} agrees with other reports."))
    sentences = (f"Café Zoë’s notes on “{query}” give the short answer — with sources.",
                 "The almanac agrees.")
    return Grounded(query, sentences, sources)
