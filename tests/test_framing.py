"""Framing codecs on their own: SSE line rules and AWS event-stream frames."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import StreamError
from engine.framing.aws_eventstream import EventStreamDecoder
from engine.framing.sse import SSEDecoder
from tests.support.wire import aws_frame

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
