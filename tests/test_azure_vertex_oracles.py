"""specs/azure-openai.yaml, vertex-anthropic.yaml and vertex-gemini.yaml examples, checked by
code nobody here wrote.

- Azure OpenAI: client requests and provider bodies are valid OpenAI requests; outputs and chunks
  pass the OpenAI SDK's strict types, with Azure's content-filter keys allowed only where Azure
  documents them (prompt_filter_results at the top, content_filter_results per choice); stream
  annotation chunks never reach the client (every chunk has a real id).
- Vertex Claude: each body, with `model` put back and `anthropic_version` taken out, passes the
  anthropic SDK's request types; `anthropic_version` is `vertex-2023-10-16` and no body has `model`;
  responses and stream events pass the anthropic SDK's types.
- Vertex Gemini: each body passes google-genai's request types; responses and events pass its
  response type; outputs and chunks pass the OpenAI SDK's strict types; stream/non-stream twins agree.
"""
from __future__ import annotations

import pytest

import engine
from engine.loader import SpecFiles, bundled_root
from tests.oracles import anthropic_types, gemini_types
from tests.oracles.openai_types import (OracleError, assert_twins_agree, check_chat_completion, check_chunk,
                                        check_create_params)
from tests.test_example_oracles import check_anthropic_grammar, without_extensions

EXT = frozenset({"reasoning_content", "thinking_blocks", "extra_content", "provider_finish_reason",
                 "provider_fields", "annotations"})
AZURE_EXT = EXT | {"prompt_filter_results", "content_filter_results"}
FILES = SpecFiles(bundled_root())
SB = engine.load()


def _examples(spec: str, *kinds: str):
    for ex in FILES.raw(spec).get("examples", []):
        if all(k in ex for k in kinds) and "refusal" not in ex:
            yield pytest.param(ex, id=ex["name"])


# -- Azure OpenAI -------------------------------------------------------------------------
@pytest.mark.parametrize("ex", list(_examples("azure-openai", "request", "body")))
def test_azure_request_and_body_are_openai_requests(ex: dict) -> None:
    check_create_params({"model": ex["model"], **without_extensions(ex["request"])})
    check_create_params(ex["body"])


@pytest.mark.parametrize("ex", list(_examples("azure-openai", "output")))
def test_azure_output_is_strict_openai(ex: dict) -> None:
    check_chat_completion(ex["output"], extra_ok=AZURE_EXT)
    misplaced = {**ex["output"], "content_filter_results": {}}  # allowed per choice only
    with pytest.raises(OracleError):
        check_chat_completion(misplaced, extra_ok=AZURE_EXT)


@pytest.mark.parametrize("ex", list(_examples("azure-openai", "chunks")))
def test_azure_chunks_are_strict_openai_and_annotations_absorbed(ex: dict) -> None:
    for chunk in ex["chunks"]:
        check_chunk(chunk, extra_ok=EXT)  # no filter keys reach a chunk
        assert chunk["id"] and chunk["object"] == "chat.completion.chunk" and chunk["model"]
    assert any(e != "[DONE]" and e["id"] == "" for e in ex["events"]), "the example has annotation chunks"
    finishes = [c for c in ex["chunks"] for ch in c["choices"] if ch.get("finish_reason")]
    assert len(finishes) == 1
    assert ex["chunks"][0]["choices"][0]["delta"] == {"role": "assistant"}


def test_azure_url_styles() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    classic = SB.translate_request("azure-openai", body, options={"resource": "r1"})
    v1 = SB.translate_request("azure-openai", body, options={"resource": "r1", "api_style": "v1",
                                                             "deployment": "prod"})
    assert classic.url == "https://r1.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    assert v1.url == "https://r1.openai.azure.com/openai/v1/chat/completions" and v1.json["model"] == "prod"
    with pytest.raises(engine.SpecError, match="resource"):
        SB.translate_request("azure-openai", body)


def test_azure_content_filter_error_example() -> None:
    ex = next(e for e in FILES.raw("azure-openai")["examples"] if e["name"] == "error_prompt_filtered")
    assert ex["error"]["code"] == "content_filter" and ex["error"]["param"] == "prompt"
    err = SB.translate_error("azure-openai", 400, ex["response"], {"model": "gpt-4o"})
    assert err.raw["error"]["innererror"]["code"] == "ResponsibleAIPolicyViolation"  # kept, not sent


# -- Vertex Claude ------------------------------------------------------------------------
@pytest.mark.parametrize("ex", list(_examples("vertex-anthropic", "request", "body")))
def test_vertex_claude_body_is_an_anthropic_request(ex: dict) -> None:
    body = dict(ex["body"])
    assert "model" not in body, "the model is in the URL"
    assert body.pop("anthropic_version") == "vertex-2023-10-16"
    anthropic_types.check_request({"model": ex["model"], **body})
    check_anthropic_grammar(body)
    check_create_params({"model": ex["model"], **without_extensions(ex["request"])})


@pytest.mark.parametrize("ex", list(_examples("vertex-anthropic", "request", "body")))
def test_vertex_claude_url(ex: dict) -> None:
    url = SB.translate_request("vertex", {"model": ex["model"], **ex["request"]}, options=ex["options"]).url
    method = "streamRawPredict" if ex["request"].get("stream") else "rawPredict"
    assert url.endswith(f"/publishers/anthropic/models/{ex['model']}:{method}")


@pytest.mark.parametrize("ex", list(_examples("vertex-anthropic", "output")))
def test_vertex_claude_output(ex: dict) -> None:
    anthropic_types.check_message(ex["response"])
    check_chat_completion(ex["output"], extra_ok=EXT)


@pytest.mark.parametrize("ex", list(_examples("vertex-anthropic", "chunks")))
def test_vertex_claude_stream(ex: dict) -> None:
    for event in ex["events"]:
        anthropic_types.check_event(event)
    for chunk in ex["chunks"]:
        check_chunk(chunk, extra_ok=EXT)
    assert len([c for c in ex["chunks"] for ch in c["choices"] if ch.get("finish_reason")]) == 1


def test_vertex_claude_refuses_url_images_before_io() -> None:
    body = {"model": "claude-sonnet-4-5@20250929", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}
    with pytest.raises(engine.TransformError) as caught:
        SB.translate_request("vertex", body, options={"project": "p"})
    assert caught.value.status == 400 and caught.value.param == "messages[0].content[0].image_url.url"


# -- Vertex Gemini ------------------------------------------------------------------------
@pytest.mark.parametrize("ex", list(_examples("vertex-gemini", "request", "body")))
def test_vertex_gemini_body_is_a_generate_content_request(ex: dict) -> None:
    gemini_types.check_request(ex["body"])
    for content in ex["body"]["contents"]:
        for part in content["parts"]:
            if "fileData" in part:
                assert part["fileData"].get("mimeType"), "Vertex requires fileData.mimeType"


def test_vertex_gemini_hosts() -> None:
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
    def url(**opts):
        return SB.translate_request("vertex", body, options={"project": "p", **opts}).url
    assert url().startswith("https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/")
    assert url(location="global").startswith("https://aiplatform.googleapis.com/v1/projects/p/locations/global/")
    assert url(location="eu").startswith("https://aiplatform.eu.rep.googleapis.com/v1/projects/p/locations/eu/")
    custom = SB.translate_request("vertex", body, options={"project": "p", "location": "global"},
                                  base_url="http://127.0.0.1:9/vertex").url
    assert custom.startswith("http://127.0.0.1:9/vertex/v1/projects/p/locations/global/")


@pytest.mark.parametrize("ex", list(_examples("vertex-gemini", "output")))
def test_vertex_gemini_output(ex: dict) -> None:
    gemini_types.check_response(ex["response"])
    check_chat_completion(ex["output"], extra_ok=EXT)
    usage = ex["output"]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["total_tokens"] == ex["response"]["usageMetadata"]["totalTokenCount"]


@pytest.mark.parametrize("ex", list(_examples("vertex-gemini", "chunks")))
def test_vertex_gemini_stream(ex: dict) -> None:
    for event in ex["events"]:
        gemini_types.check_response(event)
    for chunk in ex["chunks"]:
        check_chunk(chunk, extra_ok=EXT)


@pytest.mark.parametrize("stream,single", [("stream_text", "response_text_with_thoughts"),
                                           ("stream_function_call", "response_function_call")])
def test_vertex_gemini_twins_agree(stream: str, single: str) -> None:
    examples = {ex["name"]: ex for ex in FILES.raw("vertex-gemini")["examples"]}
    assert_twins_agree(examples[stream]["chunks"], examples[single]["output"], EXT, EXT)
