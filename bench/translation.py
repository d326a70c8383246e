"""Part 1: translation overhead per provider dialect, against the floor and against litellm.

Per dialect and operation, three implementations on the same input, timed in this process:
  floor    orjson.loads + orjson.dumps of the same payload (stream: of each recorded event)
  ours     bytes in -> engine translation -> orjson bytes out
  litellm  the peer's transformation of the same bytes (bench/peer.py)
Targets: ours <= 10x floor; litellm/ours >= 10x for request and response, >= 20x for streams.
"""
from __future__ import annotations

import orjson

from .payloads import DIALECTS, build
from .timing import Table, measure_together, ratio, verdict

TITLE = "Translation overhead"
FLOOR_MAX = 10.0
PEER_MIN = {"request": 10.0, "response": 10.0, "stream": 20.0}
HEADERS = ["dialect", "op", "impl", "best µs", "median µs", "events/s", "vs floor ×", "litellm/ours ×",
           "target", "met"]


def ours(sb, p, op):
    """The engine's path for one operation, bytes to bytes (what a gateway does per call)."""
    provider, loads, dumps = p.provider, orjson.loads, orjson.dumps
    if op == "request":
        return lambda: dumps(sb.translate_request(provider, loads(p.request_bytes)).json)
    if op == "response":
        return lambda: dumps(sb.translate_response(provider, p.response_bytes, request=p.request))

    def stream():
        st = sb.stream(provider, p.stream_request)
        return [dumps(c) for c in st.feed(p.stream_bytes) + st.close()]
    return stream


def floor(p, op):
    loads, dumps = orjson.loads, orjson.dumps
    if op == "stream":
        events = p.event_bytes
        return lambda: [dumps(loads(e)) for e in events]
    data = p.request_bytes if op == "request" else p.response_bytes
    return lambda: dumps(loads(data))


def peer_fns(op):
    from . import peer
    if op == "stream":
        return peer.PROVIDERS, [("litellm", peer.stream, True),
                                ("litellm parser only", peer.stream_parser, False)]
    return peer.PROVIDERS, [("litellm", getattr(peer, op), True)]


def _peers(provider: str, op: str, p) -> list[tuple[str, object, bool]]:
    """(name, callable, judged) for each litellm implementation of this row group."""
    providers, fns = peer_fns(op)
    return [(name, make(p), judged) for name, make, judged in fns] if provider in providers else []


def run(opts) -> list[Table]:
    import engine
    sb = engine.load()
    payloads = build(sb)
    repeat = 3 if opts.quick else 5
    dialects = [d for d in DIALECTS if not opts.dialects or d in opts.dialects]
    table = Table(f"{TITLE} (µs per operation; ratios use the best sample)", HEADERS)
    for provider in dialects:
        p = payloads[provider]
        for op in ("request", "response", "stream"):
            n_events = len(p.event_bytes) if op == "stream" else None
            per_s = (lambda us: n_events / us * 1e6) if n_events else (lambda us: None)
            peers = [] if opts.no_litellm else _peers(provider, op, p)
            base, mine, *theirs = measure_together([floor(p, op), ours(sb, p, op), *(fn for _, fn, _ in peers)],
                                                   repeat)
            vs_floor = mine.best_us / base.best_us
            label = f"{op} ({n_events} events)" if n_events else op
            table.add(provider, label, "floor", base.best_us, base.median_us, per_s(base.best_us), ratio(1.0),
                      None, None, None)
            table.add(provider, label, "ours", mine.best_us, mine.median_us, per_s(mine.best_us),
                      ratio(vs_floor), None, f"≤ {FLOOR_MAX:g}× floor", verdict(vs_floor <= FLOOR_MAX))
            if vs_floor > FLOOR_MAX:
                table.misses.append((f"{op}:{provider}",
                                     f"{provider} {op}: ours is {vs_floor:.1f}× the floor (target ≤ {FLOOR_MAX:g}×)"))
            for (name, _, judged), timing in zip(peers, theirs):
                speedup = timing.best_us / mine.best_us
                target = PEER_MIN[op] if judged else None
                table.add(provider, label, name, timing.best_us, timing.median_us, per_s(timing.best_us),
                          ratio(timing.best_us / base.best_us), ratio(speedup),
                          f"≥ {target:g}× slower than ours" if target else "(info)",
                          verdict(speedup >= target) if target else None)
                if target and speedup < target:
                    table.misses.append((f"{op}:{provider}", f"{provider} {op}: litellm is only {speedup:.1f}× "
                                         f"slower than ours (target ≥ {target:g}×)"))
    table.notes += [
        "floor = orjson.loads + orjson.dumps of the same bytes (stream: of each recorded event's JSON, "
        "no framing); ours = bytes in, engine, orjson bytes out (stream: one StreamTranslator fed the "
        "whole recorded stream, then close(), every chunk serialized).",
        "litellm request = parse the same bytes + get_optional_params + transform_request "
        "(gemini: transform_request_body); response = httpx.Response + transform_response; "
        "stream = its parser + CustomStreamWrapper (OpenAI chunks, incl. its per-chunk logging and "
        "cost bookkeeping), a new Logging object per stream. litellm's output is not serialized.",
        "litellm parser only = the provider iterator/AWSEventStreamDecoder alone: provider-shaped "
        "pieces, not yet OpenAI chunks; shown for scale, not judged.",
        "groq has no litellm row (OpenAI-compatible: same code path as openai in litellm).",
    ]
    return [table]
