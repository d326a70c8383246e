"""Web search through the gateway with the official OpenAI client: `web_search_options` against the providers
whose matrix cell is supported (Gemini, Vertex Gemini, Anthropic, Vertex Claude, Perplexity), citations back as
`message.annotations` (url_citation) and in streams as `delta.annotations`; the raw provider fields under
`provider_fields`; a refusal before any I/O where the cell is unsupported.

Positions: Gemini's segment offsets (UTF-8 bytes) become character ranges in message.content (char_offset);
Anthropic and Perplexity give no positions in the final text, so theirs are 0/0."""
from __future__ import annotations

import pytest

import openai

from tests.e2e.conftest import PROVIDERS, supports

SEARCHING = ("gemini", "vertex-gemini", "anthropic", "vertex-claude", "perplexity-ai")
QUESTION = [{"role": "user", "content": "Who won Euro 2024?"}]
OPTIONS = {"search_context_size": "low",
           "user_location": {"type": "approximate", "approximate": {"city": "Berlin", "country": "DE"}}}


def _annotations(message) -> list:
    return [a for a in (message.annotations or []) if a.type == "url_citation"]


def _skip_unemulated(provider: str) -> None:
    if provider == "perplexity-ai":
        pytest.skip("the emulated Sonar returns no search_results/citations yet (emulator/dialects/openai_*.py)")


@pytest.mark.parametrize("provider", SEARCHING)
def test_matrix_says_supported(provider: str) -> None:
    assert supports(PROVIDERS[provider], "web_search")


@pytest.mark.parametrize("provider", SEARCHING)
def test_citations_non_stream(client: openai.OpenAI, provider: str) -> None:
    resp = client.chat.completions.create(model=PROVIDERS[provider], messages=QUESTION, web_search_options=OPTIONS)
    choice = resp.choices[0]
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    assert choice.message.content
    _skip_unemulated(provider)
    cites = _annotations(choice.message)
    assert len(cites) >= 2
    content = choice.message.content
    for a in cites:
        c = a.url_citation
        assert c.url.startswith("https://") and c.title
        assert 0 <= c.start_index <= c.end_index <= len(content)
    extra = resp.model_extra["provider_fields"]
    if provider in ("gemini", "vertex-gemini"):
        assert extra["grounding_metadata"]["groundingSupports"]
    else:
        kinds = [b["type"] for b in extra["server_tool_results"]]
        assert kinds == ["server_tool_use", "web_search_tool_result"]
        assert {c["url"] for c in extra["citations"]} == {a.url_citation.url for a in cites}


@pytest.mark.parametrize("provider", SEARCHING)
def test_citations_stream(client: openai.OpenAI, provider: str) -> None:
    stream = client.chat.completions.create(model=PROVIDERS[provider], messages=QUESTION, web_search_options={},
                                            stream=True, stream_options={"include_usage": True})
    content, cites, finishes, calls = "", [], [], []
    for chunk in stream:
        for ch in chunk.choices:
            content += ch.delta.content or ""
            cites += (ch.delta.model_extra or {}).get("annotations") or []
            calls += ch.delta.tool_calls or []
            if ch.finish_reason:
                finishes.append(ch.finish_reason)
    assert finishes == ["stop"] and not calls and content
    _skip_unemulated(provider)
    assert len(cites) >= 2
    for a in cites:
        assert a["type"] == "url_citation" and a["url_citation"]["url"].startswith("https://")
        assert a["url_citation"]["title"]


@pytest.mark.parametrize("provider", ("gemini", "vertex-gemini"))
@pytest.mark.parametrize("stream", [False, True])
def test_gemini_annotation_spans_are_the_cited_text(client: openai.OpenAI, provider: str, stream: bool) -> None:
    if stream:
        with client.chat.completions.stream(model=PROVIDERS[provider], messages=QUESTION,
                                            web_search_options={}) as s:
            chunks = list(s)
        content = "".join(e.delta for e in chunks if e.type == "content.delta")
        spans = {content[a["url_citation"]["start_index"]:a["url_citation"]["end_index"]]
                 for e in chunks if e.type == "chunk" and e.chunk.choices
                 for a in (e.chunk.choices[0].delta.model_extra or {}).get("annotations") or ()}
        assert spans and all(span.strip() for span in spans)
        return
    resp = client.chat.completions.create(model=PROVIDERS[provider], messages=QUESTION, web_search_options={})
    content = resp.choices[0].message.content
    segments = {s["segment"]["text"] for s in resp.model_extra["provider_fields"]["grounding_metadata"]
                ["groundingSupports"]}
    spans = {content[a.url_citation.start_index:a.url_citation.end_index] for a in _annotations(resp.choices[0].message)}
    assert spans == segments


@pytest.mark.parametrize("provider", ("gemini", "vertex-gemini"))
def test_search_with_function_tools_is_refused_on_gemini(client: openai.OpenAI, provider: str) -> None:
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=PROVIDERS[provider], messages=QUESTION, web_search_options={},
                                       tools=[tool])
    err = caught.value.body
    assert err["code"] == "unsupported_feature" and err["param"] == "web_search_options"


def test_streamed_search_with_client_tools_is_refused_on_anthropic(client: openai.OpenAI) -> None:
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=PROVIDERS["anthropic"], messages=QUESTION, web_search_options={},
                                       tools=[tool], stream=True)
    assert caught.value.body["param"] == "web_search_options"


def test_unsupported_provider_refuses(client: openai.OpenAI) -> None:
    assert not supports(PROVIDERS["groq"], "web_search")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=PROVIDERS["groq"], messages=QUESTION, web_search_options={})
    err = caught.value.body
    assert err["code"] == "unsupported_feature" and err["param"] == "web_search_options"
    assert "groq" in err["message"]
