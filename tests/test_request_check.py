"""The OpenAI request shape check names the failing path exactly, for every kind of failure."""
from __future__ import annotations

from typing import Any

import pytest

from engine.errors import RequestError
from engine.request_check import check_request

_OK_CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def _body(*messages: Any, **extra: Any) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}, *messages], **extra}


@pytest.mark.parametrize("body,param", [
    (_body({"role": "robot", "content": "x"}), "messages[1].role"),
    (_body(["not", "a", "message"]), "messages[1]"),
    (_body({"role": "user", "content": 3}), "messages[1].content"),
    (_body({"role": "tool", "content": None, "tool_call_id": "c"}), "messages[1].content"),
    (_body({"role": "tool", "content": "x"}), "messages[1].tool_call_id"),
    (_body({"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "gif"}]}),
     "messages[1].content[1]"),
    (_body({"role": "user", "content": [{"type": "image_url", "image_url": {"url": 5}}]}),
     "messages[1].content[0].image_url.url"),
    (_body({"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA=="}}]}),
     "messages[1].content[0].input_audio.format"),
    (_body({"role": "user", "content": [{"type": "file", "file": {}}]}), "messages[1].content[0].file"),
    (_body({"role": "assistant", "content": None, "tool_calls": {}}), "messages[1].tool_calls"),
    (_body({"role": "assistant", "content": None, "tool_calls": [_OK_CALL, {"id": "c2"}]}),
     "messages[1].tool_calls[1]"),
    (_body({"role": "assistant", "content": None,
            "tool_calls": [{**_OK_CALL, "function": {"name": "f", "arguments": {}}}]}),
     "messages[1].tool_calls[0].function.arguments"),
    (_body(tools=[{"type": "function", "function": {"name": "f"}}, {"type": "web"}]), "tools[1]"),
    (_body(tools=[{"type": "function", "function": {"name": ""}}]), "tools[0].function.name"),
    (_body(tools=[{"type": "function", "function": {"name": "f", "parameters": []}}]),
     "tools[0].function.parameters"),
    (_body(temperature="hot"), "temperature"),
    (_body(stop=["a", 1]), "stop"),
    (_body(response_format={"type": "yaml"}), "response_format.type"),
    ({"model": "m", "messages": []}, "messages"),
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
])
def test_a_malformed_request_is_refused_naming_the_failing_path(body: dict, param: str) -> None:
    with pytest.raises(RequestError) as caught:
        check_request(body)
    assert caught.value.param == param and caught.value.message.startswith(param)


def test_a_well_formed_request_gives_its_part_types_and_cache_marks() -> None:
    body = _body(
        {"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
                                     {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
        {"role": "assistant", "content": None, "tool_calls": [_OK_CALL]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"})
    facts = check_request(body)
    assert facts == {"part_types": ["image_url", "text"], "cache_marked": True, "request": body}
    assert check_request(_body())["cache_marked"] is False


@pytest.mark.parametrize("message,param", [
    ({"role": ["user"], "content": "x"}, "messages[1].role"),      # unhashable role on the plain path
    ({"role": "tool", "content": "x"}, "messages[1].tool_call_id"),  # two keys, but a tool turn needs an id
    ({"role": "user", "content": None}, "messages[1].content"),
    # three keys and a text content, but not a text tool result: the full check still runs
    ({"role": "tool", "content": "x", "name": "f"}, "messages[1].tool_call_id"),
    ({"role": "tool", "content": "x", "tool_call_id": 7}, "messages[1].tool_call_id"),
    ({"role": "robot", "content": "x", "tool_call_id": "c"}, "messages[1].role"),
    ({"role": "assistant", "content": "x", "tool_calls": "c"}, "messages[1].tool_calls"),
])
def test_short_turns_are_checked_like_any_other(message: dict, param: str) -> None:
    with pytest.raises(RequestError) as caught:
        check_request(_body(message))
    assert caught.value.param == param


_TOOL = [{"type": "function", "function": {"name": "f"}}]


@pytest.mark.parametrize("body,param,words", [
    (_body(temperature=5), "temperature", "between 0 and 2"),
    (_body(temperature=-1), "temperature", "between 0 and 2"),
    (_body(top_p=2), "top_p", "between 0 and 1"),
    (_body(presence_penalty=-5), "presence_penalty", "between -2 and 2"),
    (_body(max_tokens=0), "max_tokens", "at least 1"),
    (_body(max_completion_tokens=-5), "max_completion_tokens", "at least 1"),
    (_body(n=0), "n", "between 1 and 128"),
    (_body(tools=_TOOL, tool_choice="sometimes"), "tool_choice", "'sometimes'"),
    (_body(tools=_TOOL, tool_choice={"type": "function"}), "tool_choice.function.name", "function.name"),
    (_body(tool_choice="required"), "tool_choice", "needs tools"),
    (_body(tools=_TOOL, tool_choice={"type": "function", "function": {"name": "g"}}), "tool_choice.function.name",
     "'g', which is not one of the request's tools"),
    (_body(tools=_TOOL, tool_choice={"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}),
     "tool_choice.type", "'allowed_tools' is not supported"),
    (_body(tool_choice={"type": "function", "function": {"name": "f"}}), "tool_choice", "needs tools"),
    (_body(stream_options={"include_usage": True}), "stream_options", "stream is true"),
    (_body(stream=True, stream_options={"include_usage": "yes"}), "stream_options.include_usage", "a boolean"),
    (_body({"role": "user", "content": [{"type": "text", "text": "a", "cache_control": "yes"}]}),
     "messages[1].content[0].cache_control", "ephemeral"),
    (_body({"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "x"}}]}),
     "messages[1].content[0].cache_control", "ephemeral"),
    (_body({"role": "user", "content": [{"type": "text", "text": "a",
                                         "cache_control": {"type": "ephemeral", "ttl": 300}}]}),
     "messages[1].content[0].cache_control.ttl", "'5m'"),
    (_body(tools=[{**_TOOL[0], "cache_control": True}]), "tools[0].cache_control", "ephemeral"),
    (_body(cache_control=[]), "cache_control", "an object"),
    (_body({"role": "user", "content": [{"type": "image_url", "image_url": "http://x/y.png"}]}),
     "messages[1].content[0].image_url", "an object with url, got a string"),
    (_body(metadata="x"), "metadata", "expected an object, got a string"),
])
def test_openai_contract_rules_are_refused_with_the_path(body: dict, param: str, words: str) -> None:
    with pytest.raises(RequestError) as info:
        check_request(body)
    assert info.value.param == param and words in info.value.message, info.value.message


@pytest.mark.parametrize("body", [
    _body(tool_choice="auto"), _body(tool_choice="none"), _body(temperature=2, top_p=0, n=1, max_tokens=1),
    _body(tools=_TOOL, tool_choice={"type": "function", "function": {"name": "f"}}),
    _body(stream=True, stream_options={"include_usage": False}),
    _body({"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral",
                                                                                      "ttl": "1h"}}]}),
])
def test_what_openai_accepts_passes(body: dict) -> None:
    check_request(body)


@pytest.mark.parametrize("body,param,message", [
    (_body({"content": "x"}), "messages[1].role", "messages[1].role: a role is required"),
    (_body({"role": "robot", "content": "x"}), "messages[1].role",
     "messages[1].role: unknown role 'robot'; expected one of assistant, developer, function, system, tool, user"),
    (_body({"role": "user", "content": [None]}), "messages[1].content[0]",
     "messages[1].content[0]: expected a content part object, got null"),
    (_body({"role": "user", "content": [{"text": "x"}]}), "messages[1].content[0]",
     "messages[1].content[0]: a content part needs a type"),
    (_body(response_format={"type": None}), "response_format.type",
     "response_format.type: unknown type null; expected text, json_object or json_schema"),
])
def test_messages_show_json_not_python(body: dict, param: str, message: str) -> None:
    with pytest.raises(RequestError) as info:
        check_request(body)
    assert info.value.param == param and info.value.message == message
