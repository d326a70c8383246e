"""The official OpenAI client, through the gateway, against every implemented provider
(emulated upstreams speaking each provider's own protocol)."""
from __future__ import annotations

import asyncio
import json

import pydantic
import pytest

import openai

from tests.e2e.conftest import PROVIDERS, REASONING, supports
from tests.oracles.jsonschema_check import check_instance

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                   "required": ["city", "unit"]}}}
ALL = pytest.mark.parametrize("provider", sorted(PROVIDERS))


def refused_unless_supported(model: str, feature: str) -> bool:
    """True when the test should run; otherwise the caller checks the refusal."""
    return supports(model, feature)


def assert_refused(call) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        call()
    assert caught.value.body["code"] in ("unsupported_feature", "unsupported_parameter", "unsupported_value")


def _extra(obj, key):
    return (obj.model_extra or {}).get(key)


@ALL
def test_non_stream_text(client, provider) -> None:
    r = client.chat.completions.create(model=PROVIDERS[provider], messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}],
        max_tokens=50, temperature=0.5)
    assert r.choices[0].message.content == "You said: Hello there"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0


@ALL
def test_stream_text_with_usage(client, provider) -> None:
    chunks = list(client.chat.completions.create(
        model=PROVIDERS[provider], messages=[{"role": "user", "content": "Stream me"}], stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: Stream me"
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


@ALL
def test_stream_without_include_usage_has_no_usage_chunk(client, provider) -> None:
    chunks = list(client.chat.completions.create(
        model=PROVIDERS[provider], messages=[{"role": "user", "content": "Hi"}], stream=True))
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)


@ALL
def test_async_client_stream_and_non_stream(aclient, provider) -> None:
    async def go():
        r = await aclient.chat.completions.create(model=PROVIDERS[provider],
                                                  messages=[{"role": "user", "content": "Async"}])
        stream = await aclient.chat.completions.create(model=PROVIDERS[provider], stream=True,
                                                       messages=[{"role": "user", "content": "Async"}])
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return r.choices[0].message.content, text
    assert asyncio.run(go()) == ("You said: Async", "You said: Async")


@ALL
@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip(client, provider, stream) -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    if not supports(PROVIDERS[provider], "tools"):
        assert_refused(lambda: client.chat.completions.create(model=PROVIDERS[provider], messages=messages,
                                                              tools=[WEATHER]))
        return
    if stream:
        with client.chat.completions.stream(model=PROVIDERS[provider], messages=messages,
                                            tools=[WEATHER]) as s:
            final = s.get_final_completion()
    else:
        final = client.chat.completions.create(model=PROVIDERS[provider], messages=messages, tools=[WEATHER])
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "tool_calls"
    (call,) = message.tool_calls
    assert call.id and call.function.name == "get_weather"
    check_instance(WEATHER["function"]["parameters"], json.loads(call.function.arguments))
    assistant = message.model_dump(exclude_none=True)
    assistant.pop("parsed", None)
    for c in assistant.get("tool_calls", []):
        c.pop("index", None)
        c["function"].pop("parsed_arguments", None)
    messages += [assistant, {"role": "tool", "tool_call_id": call.id, "content": "21 degrees"}]
    second = client.chat.completions.create(model=PROVIDERS[provider], messages=messages, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert "21 degrees" in second.choices[0].message.content


@ALL
def test_forced_named_tool(client, provider) -> None:
    call = lambda: client.chat.completions.create(  # noqa: E731
        model=PROVIDERS[provider], messages=[{"role": "user", "content": "Call it"}], tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    try:
        r = call()
    except openai.BadRequestError as exc:  # a provider that cannot name the tool refuses it up front
        assert exc.body["code"] in ("unsupported_value", "unsupported_parameter") and exc.body["param"] == "tool_choice"
        return
    assert r.choices[0].message.tool_calls[0].function.name == "get_weather"


@ALL
def test_json_mode(client, provider) -> None:
    if not supports(PROVIDERS[provider], "json_mode"):
        assert_refused(lambda: client.chat.completions.create(
            model=PROVIDERS[provider], response_format={"type": "json_object"},
            messages=[{"role": "user", "content": "Give me JSON"}]))
        return
    r = client.chat.completions.create(model=PROVIDERS[provider], response_format={"type": "json_object"},
                                       messages=[{"role": "user", "content": "Give me JSON"}])
    assert isinstance(json.loads(r.choices[0].message.content), dict)
    assert r.choices[0].finish_reason == "stop" and not r.choices[0].message.tool_calls


JSON_WITH_TOOLS_REFUSED = {"cohere"}   # Cohere's API refuses response_format together with tools


@ALL
@pytest.mark.parametrize("stream", [False, True])
def test_json_mode_next_to_tools(client, provider, stream) -> None:
    """JSON mode and tools together: the model may call the tool; the answer after its result is
    JSON. Where JSON mode is a tool of the gateway's own (Claude), it is one tool more, never a
    tool call the client sees."""
    model = PROVIDERS[provider]
    if not (supports(model, "json_mode") and supports(model, "tools")):
        return   # each alone is refused by its own test
    kw = {"model": model, "tools": [WEATHER], "response_format": {"type": "json_object"}}

    def ask(messages: list) -> object:
        if not stream:
            return client.chat.completions.create(messages=messages, **kw)
        with client.chat.completions.stream(messages=messages, **kw) as s:
            return s.get_final_completion()

    messages = [{"role": "user", "content": "Weather in Paris, as JSON"}]
    try:
        first = ask(messages)
    except openai.BadRequestError as exc:
        assert provider in JSON_WITH_TOOLS_REFUSED and exc.body["code"] == "unsupported_feature", exc.body
        return
    assert provider not in JSON_WITH_TOOLS_REFUSED
    (call,) = first.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and first.choices[0].finish_reason == "tool_calls"
    messages += [{"role": "assistant", "content": None, "tool_calls": [
                     {"id": call.id, "type": "function",
                      "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
                 {"role": "tool", "tool_call_id": call.id, "content": "21 degrees"}]
    second = ask(messages)
    assert isinstance(json.loads(second.choices[0].message.content), dict)
    assert second.choices[0].finish_reason == "stop" and not second.choices[0].message.tool_calls


class Person(pydantic.BaseModel):
    name: str
    age: int
    tags: list[str]


@ALL
def test_json_schema_mode_and_parse_with_pydantic(client, provider) -> None:
    schema = Person.model_json_schema()
    if not supports(PROVIDERS[provider], "schema_mode"):
        assert_refused(lambda: client.chat.completions.create(
            model=PROVIDERS[provider], messages=[{"role": "user", "content": "A person"}],
            response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}))
        return
    r = client.chat.completions.create(
        model=PROVIDERS[provider], messages=[{"role": "user", "content": "A person"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}})
    check_instance(schema, json.loads(r.choices[0].message.content))
    parse = lambda: client.chat.completions.parse(model=PROVIDERS[provider], response_format=Person,  # noqa: E731
                                                  messages=[{"role": "user", "content": "A person"}])
    if not supports(PROVIDERS[provider], "structured_output"):
        assert_refused(parse)
        return
    assert isinstance(parse().choices[0].message.parsed, Person)


@ALL
def test_json_mode_stream(client, provider) -> None:
    if not supports(PROVIDERS[provider], "json_mode"):
        return  # the refusal is test_json_mode's
    chunks = list(client.chat.completions.create(
        model=PROVIDERS[provider], response_format={"type": "json_object"}, stream=True,
        messages=[{"role": "user", "content": "JSON please"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert isinstance(json.loads(text), dict)


@ALL
def test_reasoning_text_comes_back(client, provider) -> None:
    call = lambda: client.chat.completions.create(model=REASONING[provider], reasoning_effort="low",  # noqa: E731
                                                  messages=[{"role": "user", "content": "Think first"}])
    if not supports(REASONING[provider], "reasoning"):
        assert_refused(call)
        return
    r = call()
    message = r.choices[0].message
    assert message.content
    if provider not in ("openai", "azure-openai"):  # these return no reasoning text, only a token count
        assert _extra(message, "reasoning_content")
    assert r.usage.completion_tokens_details is not None


@pytest.mark.parametrize("provider", ["anthropic", "bedrock", "vertex-claude"])
def test_thinking_blocks_survive_a_tool_turn(client, provider) -> None:
    model = REASONING[provider]
    messages = [{"role": "user", "content": "Weather in Oslo?"}]
    first = client.chat.completions.create(model=model, reasoning_effort="low", messages=messages,
                                           tools=[WEATHER], max_tokens=4000)
    message = first.choices[0].message
    blocks = _extra(message, "thinking_blocks")
    assert blocks and blocks[0]["signature"]
    assistant = {"role": "assistant", "content": message.content, "thinking_blocks": blocks,
                 "tool_calls": [c.model_dump() for c in message.tool_calls]}
    messages += [assistant, {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "3C"}]
    second = client.chat.completions.create(model=model, reasoning_effort="low", messages=messages,
                                            tools=[WEATHER], max_tokens=4000)
    assert "3C" in second.choices[0].message.content


@pytest.mark.parametrize("provider", ["anthropic", "bedrock", "vertex-claude"])
def test_altered_thinking_block_is_refused_upstream(client, provider) -> None:
    import openai
    model = REASONING[provider]
    first = client.chat.completions.create(model=model, reasoning_effort="low", tools=[WEATHER],
                                           messages=[{"role": "user", "content": "Weather?"}], max_tokens=4000)
    message = first.choices[0].message
    blocks = [{**b, "thinking": b["thinking"] + " (edited)"} for b in _extra(message, "thinking_blocks")]
    messages = [{"role": "user", "content": "Weather?"},
                {"role": "assistant", "thinking_blocks": blocks, "tool_calls": [c.model_dump() for c in message.tool_calls]},
                {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "3C"}]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=model, reasoning_effort="low", messages=messages, tools=[WEATHER],
                                       max_tokens=4000)


@pytest.mark.parametrize("model", ["gemini-main/gemini-3-pro-preview", "vertex-main/gemini-3-pro-preview"])
def test_gemini_thought_signatures_round_trip(client, model) -> None:
    messages = [{"role": "user", "content": "Weather in Rome?"}]
    first = client.chat.completions.create(model=model, reasoning_effort="high", messages=messages, tools=[WEATHER])
    call = first.choices[0].message.tool_calls[0]
    extra = _extra(call, "extra_content")
    assert extra["google"]["thought_signature"]
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "25C"}]
    second = client.chat.completions.create(model=model, reasoning_effort="high", messages=messages, tools=[WEATHER])
    assert "25C" in second.choices[0].message.content
    import openai
    altered = json.loads(json.dumps(messages))       # the signature is sent as given, not replaced
    altered[1]["tool_calls"][0]["extra_content"]["google"]["thought_signature"] += "AA"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=model, reasoning_effort="high", messages=altered, tools=[WEATHER])
    # a call with no signature (a client that dropped extra_content, a history from another
    # provider) goes with Google's placeholder on the step's first call, which Gemini 3 accepts
    stripped = json.loads(json.dumps(messages))
    del stripped[1]["tool_calls"][0]["extra_content"]
    third = client.chat.completions.create(model=model, reasoning_effort="high", messages=stripped, tools=[WEATHER])
    assert "25C" in third.choices[0].message.content


@pytest.mark.parametrize("provider", ["anthropic", "bedrock", "vertex-claude"])
def test_prompt_caching_reports_cached_tokens(client, provider) -> None:
    system = {"role": "system", "content": [{"type": "text", "text": "Policy " * 300,
                                             "cache_control": {"type": "ephemeral"}}]}
    ask = {"role": "user", "content": f"Question for {provider}"}
    client.chat.completions.create(model=PROVIDERS[provider], messages=[system, ask])
    r = client.chat.completions.create(model=PROVIDERS[provider], messages=[system, ask])
    assert r.usage.prompt_tokens_details.cached_tokens > 0
    assert r.usage.prompt_tokens >= r.usage.prompt_tokens_details.cached_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_sambanova_takes_n_up_to_8(client, stream) -> None:
    """SambaNova documents n 1-8 (the emulator once refused n > 1)."""
    model, messages = "sambanova-main/Meta-Llama-3.3-70B-Instruct", [{"role": "user", "content": "Two please"}]
    if stream:
        chunks = list(client.chat.completions.create(model=model, messages=messages, n=2, stream=True))
        texts = {i: "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].index == i)
                 for i in (0, 1)}
        finishes = sorted(c.choices[0].index for c in chunks if c.choices and c.choices[0].finish_reason)
        assert texts == {0: "You said: Two please", 1: "[1] You said: Two please"} and finishes == [0, 1]
        return
    r = client.chat.completions.create(model=model, messages=messages, n=2)
    assert [(c.index, c.message.content, c.finish_reason) for c in r.choices] == [
        (0, "You said: Two please", "stop"), (1, "[1] You said: Two please", "stop")]
