"""The stream machine: provider events in, `chat.completion.chunk` dicts out.

Two layers, as the codecs and the spec split them: a framing codec turns bytes into
events; the spec's event table (`stream.events`) turns each event into a few generic
actions, and this machine keeps the little state that OpenAI's chunk grammar needs:
- a role chunk first, per choice;
- tool calls numbered densely per choice (the provider's block index is only a key),
  `id` and `name` on the first delta only;
- reasoning text as `delta.reasoning_content`, and each signed thinking block once
  complete as `delta.thinking_blocks`;
- one finish chunk per choice, held back until the provider says it is done, then
  the usage chunk (`choices: []`) when the client asked for `include_usage`.
`close()` ends the stream; a stream that never said how it finished is an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from .errors import StreamError, TransformError
from .forms import MISSING
from .framing import CODECS
from .functions import completion_id, synth_id
from .think import TagSplitter

if TYPE_CHECKING:
    from .dialect import Dialect


_UNBOUND: Any = object()


@dataclass
class _Choice:
    tools: dict[Any, int] = field(default_factory=dict)
    content_tools: dict = field(default_factory=dict)   # key -> whether its arguments are the answer
    answer_pending: bool = False   # the answer's tool has started but sent no arguments yet
    empty_args: set = field(default_factory=set)
    finish: Any = None
    thinking: list[str] = field(default_factory=list)
    started: bool = False
    tags: TagSplitter | None = None
    text: str = ""   # the content so far: `$content` for actions that locate things in it
    held: dict = field(default_factory=dict)   # annotations `until` a key: key -> (start, items)


class StreamTranslator:
    """Per-request state; not shared between threads (make one per stream)."""

    def __init__(self, dialect: "Dialect", env: dict, include_usage: bool, created: int):
        self.dialect, self.env = dialect, env
        self.include_usage = include_usage
        self.codec = CODECS[dialect.framing]()
        self.id: str | None = None
        self.model: str | None = env.get("model")
        self.created = created
        self.choices: dict[int, _Choice] = {}
        self.usage: dict = {}
        self.ended = False
        self.reports: list[dict] = env.get("reports", [])
        self._out: list[dict] = []

    # -- public ------------------------------------------------------------------
    def feed(self, data: bytes) -> list[dict]:
        """Chunks for these bytes. A bad event raises StreamError carrying, as `.partial`, the
        chunks the events before it made (they are the client's, whatever one read held)."""
        try:
            for name, payload in self.codec.feed(data):
                self._event(name, payload)
        except StreamError as exc:
            exc.partial = self._take()
            raise
        return self._take()

    def close(self) -> list[dict]:
        for name, payload in self.codec.close():
            self._event(name, payload)
        if not self.ended:
            if not self.choices or any(c.finish is None for c in self.choices.values()):
                raise StreamError("upstream stream ended before it finished (no finish reason)")
            self._end()
        return self._take()

    # -- events ------------------------------------------------------------------
    def _take(self) -> list[dict]:
        out, self._out = self._out, []
        return out

    def _event(self, name: str | None, payload: Any) -> None:
        if self.ended:
            return
        if isinstance(payload, str):
            if self.dialect.done is not None and payload.strip() == self.dialect.done:
                self._end()
                return
            if not payload.strip():
                return
            try:
                payload = orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise StreamError("upstream sent an event that is not JSON") from None
        kind = self.dialect.event_type(payload, self.env) if self.dialect.event_type else name
        first = self.choices.get(0)
        self.env["content"] = first.text if first else ""
        actions = self.dialect.on.get(kind) or self.dialect.on.get("*")
        if actions:
            try:
                self._run(actions, payload, self.env)
            except TransformError as exc:
                raise StreamError(f"upstream event {kind!r} could not be read: {exc}") from None

    def _run(self, actions: tuple, payload: Any, env: dict) -> None:
        for action in actions:
            if action.when is not None and not action.when(payload, env):
                continue
            if action.each is not None:
                items = action.each(payload, env)
                if isinstance(items, list) and items:
                    self._each(action, items, env)
                continue
            value = action.node(payload, env)
            if value is not MISSING:
                _HANDLERS[action.kind](self, value)

    def _each(self, action: Any, items: list, env: dict) -> None:
        """Runs `do` per item with the item bound by name in the stream's own env (set and
        restored in place: copying the env per item cost more than the actions themselves)."""
        name = action.name
        if not name:
            for item in items:
                self._run(action.do, item, env)
            return
        saved = env.get(name, _UNBOUND)
        try:
            for item in items:
                env[name] = item
                self._run(action.do, item, env)
        finally:
            if saved is _UNBOUND:
                env.pop(name, None)
            else:
                env[name] = saved

    # -- actions (one per word of the `on:` table) --------------------------------
    def _do_start(self, v: dict) -> None:
        self.id = self.id or v.get("id")
        self.model = v.get("model") or self.model
        if "usage" in v:
            _deep_merge(self.usage, v["usage"])

    def _do_text(self, v: dict) -> None:
        text = v.get("text")
        if not isinstance(text, str) or not text:
            return
        index = v.get("choice", 0)
        if v.get("think_tags"):  # reasoning inlined between <think> tags
            choice = self._choice(index)
            choice.tags = choice.tags or TagSplitter()
            self._tagged(index, choice.tags.feed(text))
            return
        self._delta(index, {"content": text})

    def _tagged(self, index: int, parts: list[tuple[str, str]]) -> None:
        for kind, piece in parts:
            self._delta(index, {"content": piece} if kind == "text" else {"reasoning_content": piece})

    def _do_refusal(self, v: dict) -> None:
        if v.get("text"):
            self._delta(v.get("choice", 0), {"refusal": v["text"]})

    def _do_annotations(self, v: dict) -> None:
        """Citations as they arrive (`delta.annotations`, url_citation entries). With `until: key`
        they cover text still to come: held, and sent when that key is released."""
        items = v.get("items")
        if not isinstance(items, list) or not items:
            return
        index = v.get("choice", 0)
        key = v.get("until")
        if key is None:
            self._delta(index, {"annotations": items})
            return
        choice = self._choice(index)
        start, held = choice.held.get(key, (len(choice.text), []))
        choice.held[key] = (start, held + items)

    def _do_release(self, v: dict) -> None:
        """The held annotations of `key`: their span is the content streamed since the first was
        held (start_index, end_index in characters, as a non-stream answer's)."""
        index = v.get("choice", 0)
        choice = self.choices.get(index)
        if choice is not None and v.get("key") in choice.held:
            self._send_held(index, v["key"])

    def _send_held(self, index: int, key: Any) -> None:
        choice = self.choices[index]
        start, items = choice.held.pop(key)
        for item in items:
            span = item.get(item.get("type")) if isinstance(item, dict) else None
            if isinstance(span, dict):   # {type: url_citation, url_citation: {..., start_index, end_index}}
                span["start_index"], span["end_index"] = start, len(choice.text)
        self._delta(index, {"annotations": items})

    def _do_reasoning(self, v: dict) -> None:
        text = v.get("text")
        if isinstance(text, str) and text:
            index = v.get("choice", 0)
            self._choice(index).thinking.append(text)
            self._delta(index, {"reasoning_content": text})

    def _do_signature(self, v: dict) -> None:
        if not v.get("signature"):
            return
        index = v.get("choice", 0)
        choice = self._choice(index)
        block = {"type": "thinking", "thinking": "".join(choice.thinking), "signature": v["signature"]}
        choice.thinking = []
        self._delta(index, {"thinking_blocks": [block]})

    def _do_redacted(self, v: dict) -> None:
        if v.get("data"):
            self._delta(v.get("choice", 0), {"thinking_blocks": [{"type": "redacted_thinking",
                                                                  "data": v["data"]}]})

    def _do_tool_call(self, v: dict) -> None:
        index = v.get("choice", 0)
        choice = self._choice(index)
        key = v.get("key", MISSING)
        args = v.get("args")
        if not isinstance(args, str):
            args = orjson.dumps(args).decode() if args is not None else ""
        if v.get("as_content") or key in choice.content_tools:
            # A tool standing in for JSON mode: the first one's arguments are the answer (a second
            # would make the content two JSON documents; a non-stream answer takes the first too).
            kept = choice.content_tools.get(key)
            if kept is None:
                kept = not any(choice.content_tools.values())
                if key is not MISSING:
                    choice.content_tools[key] = kept
                choice.answer_pending = choice.answer_pending or kept
            if kept and args:
                choice.answer_pending = False
                self._delta(index, {"content": args})
            return
        if key is MISSING or key not in choice.tools:
            ordinal = len(choice.tools)
            choice.tools[ordinal if key is MISSING else key] = ordinal
            if not args:
                choice.empty_args.add(ordinal)
            call = {"index": ordinal,
                    "id": v.get("id") or synth_id("call_", self._completion_id(), index, ordinal),
                    "type": "function",
                    "function": {"name": v.get("name", ""), "arguments": args}}
            if v.get("extra"):
                call["extra_content"] = v["extra"]
            self._delta(index, {"tool_calls": [call]})
        elif args:
            choice.empty_args.discard(choice.tools[key])
            self._delta(index, {"tool_calls": [{"index": choice.tools[key],
                                                "function": {"arguments": args}}]})

    def _do_finish(self, v: dict) -> None:
        reason = v.get("reason")
        if reason is not None:
            self._choice(v.get("choice", 0)).finish = reason

    def _do_usage(self, v: Any) -> None:
        if isinstance(v, dict):
            _deep_merge(self.usage, v)

    def _do_error(self, v: dict) -> None:
        raise StreamError(v.get("message") or "upstream error in stream",
                          type=v.get("type") or "api_error", code=v.get("code"),
                          status=v.get("status") or 502)

    def _do_end(self, v: Any) -> None:
        self._end()

    # -- chunks ------------------------------------------------------------------
    def _choice(self, index: int) -> _Choice:
        choice = self.choices.get(index)
        if choice is None:
            choice = self.choices[index] = _Choice()
        return choice

    def _completion_id(self) -> str:
        if self.id is None:  # the provider gave none (yet): from now on, one of ours
            self.id = completion_id(self.model, self.created, self.env.get("fresh_ids", False))
        return self.id

    def _envelope(self) -> dict:
        return {"id": self._completion_id(), "object": "chat.completion.chunk", "created": self.created,
                "model": self.model or ""}

    def _delta(self, index: int, delta: dict) -> None:
        choice = self._choice(index)
        if "content" in delta:
            choice.text += delta["content"]
            if index == 0:
                self.env["content"] = choice.text
        if not choice.started:
            choice.started = True
            self._out.append({**self._envelope(), "choices": [
                {"index": index, "delta": {"role": "assistant"}, "finish_reason": None}]})
        self._out.append({**self._envelope(), "choices": [
            {"index": index, "delta": delta, "finish_reason": None}]})

    def _end(self) -> None:
        self.ended = True
        if not self.choices:
            self._choice(0)
        for index in sorted(self.choices):
            choice = self.choices[index]
            if choice.tags is not None:
                self._tagged(index, choice.tags.close())
            for key in list(choice.held):   # never released: they cover the text to the end
                self._send_held(index, key)
            if not choice.started:
                self._delta_role_only(index)
            if choice.answer_pending:   # the answer's tool was called with no arguments: {}
                self._delta(index, {"content": "{}"})
            for ordinal in sorted(choice.empty_args):
                # A tool called with no arguments still gets valid JSON arguments.
                self._delta(index, {"tool_calls": [{"index": ordinal, "function": {"arguments": "{}"}}]})
            entry = {"index": index, "delta": {}, "finish_reason": None}
            entry.update(self.dialect.finish_reason(choice.finish, bool(choice.tools)))
            self._out.append({**self._envelope(), "choices": [entry]})
        if self.include_usage:
            usage = self.dialect.usage(self.usage, self.env) if self.usage else None
            self._out.append({**self._envelope(), "choices": [], "usage": usage})

    def _delta_role_only(self, index: int) -> None:
        self.choices[index].started = True
        self._out.append({**self._envelope(), "choices": [
            {"index": index, "delta": {"role": "assistant"}, "finish_reason": None}]})


_HANDLERS = {name[len("_do_"):]: fn for name, fn in vars(StreamTranslator).items() if name.startswith("_do_")}


def _deep_merge(into: dict, new: dict) -> None:
    """Later usage reports refine earlier ones field by field (some providers send input
    counts at the start and output counts at the end)."""
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        elif value is not None:
            into[key] = value
