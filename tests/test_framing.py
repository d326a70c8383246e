"""Framing codecs on their own: SSE line rules and AWS event-stream frames.

The event-stream decoder is hand-written for speed; botocore's own `EventStreamBuffer`
is the oracle here: random messages (every header type), splits and corruptions must
decode as it decodes them, and fail where it fails, only ever with `StreamError`.
"""
from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer, EventStreamHeaderParser
from hypothesis import event, given
from hypothesis import strategies as st

from engine.errors import StreamError
from engine.framing.aws_eventstream import EventStreamDecoder, parse_headers
from engine.framing.sse import SSEDecoder
from tests.support.wire import aws_frame, aws_header, aws_message

SSE = (b"event: a\r\ndata: {\"x\": 1}\r\n\r\n: ping\n\ndata: line1\ndata: line2\n\n"
       b"data: [DONE]\n\n")
WANT = [("a", '{"x": 1}'), (None, "line1\nline2"), (None, "[DONE]")]


def _sse(pieces: list[bytes]) -> list:
    d = SSEDecoder()
    out = []
    for piece in pieces:
        out += d.feed(piece)
    return out + d.close()


def test_sse_fields_comments_multiline_and_crlf() -> None:
    assert _sse([SSE]) == WANT


@given(st.lists(st.integers(0, len(SSE)), max_size=10))
def test_sse_any_split_gives_the_same_events(cuts: list[int]) -> None:
    cuts = sorted(cuts)
    assert _sse([SSE[a:b] for a, b in zip([0] + cuts, cuts + [len(SSE)])]) == WANT


def test_sse_cr_lf_split_across_feeds_is_one_line_end() -> None:
    assert _sse([b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]) == [(None, "a"), (None, "b")]


def test_sse_last_event_without_blank_line_is_kept_at_eof() -> None:
    assert _sse([b"data: tail"]) == [(None, "tail")]


def test_sse_invalid_utf8_is_a_stream_error() -> None:
    with pytest.raises(StreamError):
        _sse([b"data: \xff\xfe\n\n"])


FRAMES = aws_frame("messageStart", {"role": "assistant", "p": "ab"}) + aws_frame(
    "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}})


@given(st.lists(st.integers(0, len(FRAMES)), max_size=10))
def test_eventstream_frames_split_anywhere(cuts: list[int]) -> None:
    cuts = sorted(cuts)
    d = EventStreamDecoder()
    out = []
    for a, b in zip([0] + cuts, cuts + [len(FRAMES)]):
        out += d.feed(FRAMES[a:b])
    out += d.close()
    assert [name for name, _ in out] == ["messageStart", "contentBlockDelta"]
    assert out[1][1]["delta"] == {"text": "Hi"}


def test_eventstream_bad_crc_is_a_stream_error() -> None:
    broken = bytearray(FRAMES)
    broken[-1] ^= 0xFF
    with pytest.raises(StreamError, match="corrupt"):
        EventStreamDecoder().feed(bytes(broken))


def test_eventstream_eof_inside_a_frame_is_a_stream_error() -> None:
    d = EventStreamDecoder()
    d.feed(FRAMES[:-5])
    with pytest.raises(StreamError, match="ended inside a frame"):
        d.close()


def test_eventstream_exception_frame_becomes_a_stream_error_with_status() -> None:
    frame = aws_frame("throttlingException", {"message": "slow down"}, message_type="exception")
    with pytest.raises(StreamError) as caught:
        EventStreamDecoder().feed(frame)
    assert caught.value.status == 429 and "slow down" in caught.value.message


# --- the hand-written event-stream decoder against botocore's ---------------------------

SPECIAL = (":event-type", ":message-type", ":exception-type", ":error-code", ":error-message",
           ":content-type")
NAMES = st.text(max_size=12).filter(lambda n: n not in SPECIAL and len(n.encode()) <= 255)
VALUES: dict[int, st.SearchStrategy] = {
    0: st.none(), 1: st.none(), 2: st.integers(-2**7, 2**7 - 1),
    3: st.integers(-2**15, 2**15 - 1), 4: st.integers(-2**31, 2**31 - 1),
    5: st.integers(-2**63, 2**63 - 1), 6: st.binary(max_size=40), 7: st.text(max_size=30),
    8: st.integers(-2**63, 2**63 - 1), 9: st.binary(min_size=16, max_size=16)}
HEADERS = st.one_of([st.tuples(NAMES, st.just(kind), value) for kind, value in VALUES.items()])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@st.composite
def sections(draw: st.DrawFn) -> bytes:
    """A valid header section: random names and types (no repeats), maybe the event headers."""
    headers = [aws_header(*h) for h in draw(st.lists(HEADERS, max_size=6, unique_by=lambda h: h[0]))]
    event_type = draw(st.none() | st.text(max_size=20))
    if event_type is not None:
        headers.append(aws_header(":event-type", 7, event_type))
    if draw(st.booleans()):
        headers.append(aws_header(":message-type", 7, "event"))
    if draw(st.booleans()):
        headers.append(aws_header(":content-type", 7, "application/json"))
    return b"".join(draw(st.permutations(headers)))


PAYLOADS = st.none().map(lambda _: b"") | JSON.map(lambda v: json.dumps(v).encode())
MESSAGES = st.tuples(sections(), PAYLOADS)


def _pieces(stream: bytes, data: st.DataObject) -> list[bytes]:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8), label="cuts"))
    return [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]


def _botocore(pieces: list[bytes]) -> list:
    """Per piece: the events botocore decodes after it, or "error" once it raises anything."""
    buffer, steps, consumed = EventStreamBuffer(), [], 0
    for piece in pieces:
        buffer.add_data(piece)
        try:
            step = []
            for message in buffer:
                consumed += message.prelude.total_length
                if message.headers.get(":message-type", "event") != "event":
                    steps.append("error")
                    return steps
                payload = message.payload
                step.append((message.headers.get(":event-type"), json.loads(payload) if payload else {}))
        except Exception:  # noqa: BLE001 - any failure of the oracle counts as a refusal
            steps.append("error")
            return steps
        steps.append(step)
    steps.append("error" if consumed < sum(map(len, pieces)) else [])  # bytes left at EOF
    return steps


def _ours(pieces: list[bytes]) -> list:
    """The same shape from our decoder; only StreamError is caught."""
    decoder, steps = EventStreamDecoder(), []
    for piece in pieces + [None]:
        try:
            steps.append(decoder.close() if piece is None else decoder.feed(piece))
        except StreamError:
            steps.append("error")
            break
    return steps


@given(st.lists(MESSAGES, max_size=6), st.data())
def test_eventstream_random_messages_decode_as_botocore_decodes_them(messages: list, data: Any) -> None:
    stream = b"".join(aws_message(*m) for m in messages)
    pieces = _pieces(stream, data)
    want = _botocore(pieces)
    assert "error" not in want
    assert _ours(pieces) == want
    for section, _ in messages:
        assert parse_headers(section) == EventStreamHeaderParser().parse(section)


@given(st.lists(MESSAGES, min_size=1, max_size=4), st.data())
def test_eventstream_corrupt_or_cut_stream_fails_exactly_where_botocore_fails(messages: list,
                                                                           data: Any) -> None:
    stream = bytearray(b"".join(aws_message(*m) for m in messages))
    if data.draw(st.booleans(), label="corrupt, else cut"):
        stream[data.draw(st.integers(0, len(stream) - 1))] ^= data.draw(st.integers(1, 255))
    else:
        del stream[data.draw(st.integers(0, len(stream) - 1)):]
    pieces = _pieces(bytes(stream), data)
    want = _botocore(pieces)
    event(f"refused: {'error' in want}")
    assert _ours(pieces) == want


@st.composite
def garbled_sections(draw: st.DrawFn) -> bytes:
    """A valid section, then one byte changed, or cut short, or random bytes appended."""
    section = bytearray(draw(sections()))
    how = draw(st.sampled_from(["flip", "cut", "append"]))
    if how == "flip" and section:
        section[draw(st.integers(0, len(section) - 1))] = draw(st.integers(0, 255))
    elif how == "cut" and section:
        del section[draw(st.integers(0, len(section) - 1)):]
    else:
        section += draw(st.binary(min_size=1, max_size=24))
    return bytes(section)


@given(garbled_sections(), PAYLOADS)
def test_eventstream_garbled_headers_with_good_checksums_are_refused_as_botocore_refuses(
        section: bytes, payload: bytes) -> None:
    frame = [aws_message(section, payload)]
    want, got = _botocore(frame), _ours(frame)
    if want[0] == "error" or got[0] != "error":
        event("both refuse" if want[0] == "error" else "both accept")
        assert got == want
        return
    event("only we refuse")
    # We refuse more than botocore: it silently cuts a value that runs past the section.
    with pytest.raises(StreamError, match="runs past the headers"):
        parse_headers(section)
    EventStreamHeaderParser().parse(section)


SAMPLES = [(0, None, True), (1, None, False), (2, -5, -5), (3, -300, -300), (4, 2**31 - 1, 2**31 - 1),
           (5, -2**63, -2**63), (6, b"\x00\xff", b"\x00\xff"), (7, "h\u00e9", "h\u00e9"),
           (8, 1700000000000, 1700000000000), (9, bytes(range(16)), bytes(range(16)))]


@pytest.mark.parametrize(("kind", "value", "decoded"), SAMPLES)
def test_eventstream_each_header_type_is_decoded_and_skipped(kind: int, value: Any, decoded: Any) -> None:
    section = aws_header("x", kind, value) + aws_header(":event-type", 7, "ev")
    assert parse_headers(section) == {"x": decoded, ":event-type": "ev"}
    assert parse_headers(section) == EventStreamHeaderParser().parse(section)
    assert EventStreamDecoder().feed(aws_message(section, b'{"a":1}')) == [("ev", {"a": 1})]


@pytest.mark.parametrize("section", [
    b"\x01x\x0a", b"\x01x\xff",                            # unknown types
    b"\x01x\x07\x00\x05abc", b"\x01x\x06\x00\x01", b"\x01x\x09" + bytes(15),  # values past the end
    b"\x01x\x04\x00\x00", b"\x01x\x07\x00", b"\x05abc", b"\x01x",  # fixed / length / name / type past it
    aws_header("x", 0) + aws_header("x", 1),                 # repeated name
    b"\x01\xff\x00", b"\x01x\x07\x00\x01\xff"])             # names and strings not UTF-8
def test_eventstream_bad_header_sections_are_corrupt_frames(section: bytes) -> None:
    with pytest.raises(StreamError, match="corrupt event-stream frame"):
        EventStreamDecoder().feed(aws_message(section, b"{}"))


def _prelude(total: int, headers: int) -> bytes:
    head = struct.pack(">II", total, headers)
    return head + struct.pack(">I", zlib.crc32(head))


@pytest.mark.parametrize(("total", "headers"), [
    (16 * 1024 * 1024 + 1, 0),           # message over 16 MiB
    (1024 * 1024, 128 * 1024 + 1),       # headers over 128 KiB
    (15, 0), (12, 0), (0, 0),            # shorter than prelude + message CRC
    (100, 85)])                          # headers longer than the message
def test_eventstream_bad_lengths_are_refused_as_soon_as_the_prelude_arrives(total: int,
                                                                           headers: int) -> None:
    decoder = EventStreamDecoder()
    assert decoder.feed(_prelude(total, headers)[:11]) == []
    with pytest.raises(StreamError, match="corrupt event-stream frame: bad lengths"):
        decoder.feed(_prelude(total, headers)[11:])


def test_eventstream_largest_message_is_accepted_in_many_chunks() -> None:
    payload = b'{"a":"' + b"x" * (16 * 1024 * 1024 - 16 - 8) + b'"}'
    frame = aws_message(b"", payload)
    assert len(frame) == 16 * 1024 * 1024
    decoder, out = EventStreamDecoder(), []
    for at in range(0, len(frame), 64 * 1024):
        out += decoder.feed(frame[at:at + 64 * 1024])
    assert len(out) == 1 and len(out[0][1]["a"]) == len(payload) - 8
    assert decoder.close() == []


def test_eventstream_empty_payload_is_an_empty_object() -> None:
    frames = aws_message(aws_header(":event-type", 7, "ping"), b"") + aws_message(b"", b"")
    assert len(aws_message(b"", b"")) == 16
    assert EventStreamDecoder().feed(frames) == [("ping", {}), (None, {})]


def test_eventstream_a_corrupt_stream_stays_corrupt() -> None:
    broken = bytearray(FRAMES)
    broken[20] ^= 1
    decoder = EventStreamDecoder()
    with pytest.raises(StreamError, match="message checksum"):
        decoder.feed(bytes(broken))
    with pytest.raises(StreamError, match="message checksum"):
        decoder.feed(FRAMES)


def test_eventstream_error_frame_becomes_a_stream_error_with_its_code() -> None:
    section = (aws_header(":message-type", 7, "error") + aws_header(":error-code", 7, "InternalFailure")
               + aws_header(":error-message", 7, "boom"))
    with pytest.raises(StreamError) as caught:
        EventStreamDecoder().feed(aws_message(section, b""))
    assert (caught.value.status, caught.value.code) == (502, "InternalFailure")
    assert caught.value.message == "upstream InternalFailure: boom"
