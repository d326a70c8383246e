"""Media through the real gateway: data: URLs and URLs the gateway must fetch (for
providers that only take bytes), proven by what the emulator received, and the
address checks that keep the fetcher from reaching private networks."""
from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib

import httpx
import pytest
import yaml

from emulator.gateway import account_overrides
from tests.support.servers import KEY, gateway_app, run_app


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


PNG = _png()
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40
PDF = b"%PDF-1.4\n%test\n"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 24


SLOW: list[dict] = []   # each /slow.png request: whether its client (the gateway) hung up on it


async def _slow_png(receive, send) -> None:
    """A PNG after 0.6 s, noting whether the fetch was cut off while it waited."""
    import asyncio
    seen = {"hung_up": False}
    SLOW.append(seen)

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        seen["hung_up"] = True
    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.6)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"image/png"), (b"content-length", str(len(PNG)).encode())]})
    await send({"type": "http.response.body", "body": PNG})
    watcher.cancel()


async def media_server(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/slow.png":
        await _slow_png(receive, send)
        return
    routes = {
        "/cat.png": (200, "image/png", PNG, {}),
        "/clip.mp4": (200, "video/mp4", MP4, {}),
        "/big.png": (200, "image/png", PNG + b"\x00" * 600_000, {}),
        "/fake.png": (200, "image/png", b"<html>not an image</html>", {}),
        "/to-cat": (302, "text/plain", b"", {"location": "/cat.png"}),
        "/to-metadata": (302, "text/plain", b"", {"location": "http://169.254.169.254/latest/meta-data/"}),
        "/to-data": (302, "text/plain", b"", {"location": "data:image/png;base64,iVBORw0KGgo="}),
    }
    status, ctype, body, extra = routes.get(path, (404, "text/plain", b"no", {}))
    headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def media_url():
    with run_app(media_server) as url:
        yield url


def _config(tmp_path_factory, emulator_url: str, media: dict) -> str:
    path = tmp_path_factory.mktemp("media") / "gateway.yaml"
    path.write_text(yaml.safe_dump({"accounts": account_overrides(emulator_url), "media": media}))
    return str(path)


@pytest.fixture(scope="module")
def gw(emulator_url, tmp_path_factory):
    """A gateway that may fetch from the loopback media server (and only it)."""
    config = _config(tmp_path_factory, emulator_url, {"allow_http": True, "allow": ["127.0.0.1"],
                                                      "max_bytes": 500_000, "max_parts": 3})
    with run_app(gateway_app(emulator_url, config)) as url:
        yield url


@pytest.fixture(scope="module")
def strict_gw(emulator_url, tmp_path_factory):
    """A gateway with the default rule set: https only, no private addresses."""
    config = _config(tmp_path_factory, emulator_url, {"allow_http": True})
    with run_app(gateway_app(emulator_url, config)) as url:
        yield url


def _ask(gateway: str, model: str, parts: list) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"}, *parts]}]}
    return httpx.post(gateway + "/v1/chat/completions", json=body, timeout=20,
                      headers={"authorization": f"Bearer {KEY}"})


def _received(emulator_url: str) -> list[dict]:
    return httpx.get(emulator_url + "/emulator/media").json()["requests"][-1]["media"]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _data(mime: str, raw: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


IMAGE = "image_url"
BEDROCK = "bedrock-main/anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "bedrock-main/amazon.nova-pro-v1:0"


@pytest.mark.parametrize("model", ["anthropic-main/claude-sonnet-4-5", "gemini-main/gemini-2.5-flash", BEDROCK,
                                   "vertex-main/gemini-2.5-flash", "vertex-main/claude-sonnet-4-5@20250929",
                                   "cohere-main/command-a-vision-07-2025", "openai-main/gpt-4o"])
def test_image_data_url_arrives_intact(gw: str, emulator_url: str, model: str) -> None:
    r = _ask(gw, model, [{"type": IMAGE, "image_url": {"url": _data("image/png", PNG)}}])
    assert r.status_code == 200, r.text
    (media,) = _received(emulator_url)
    assert media["bytes"] == len(PNG) and media["sha256"] == _digest(PNG)


@pytest.mark.parametrize("model", [BEDROCK, "vertex-main/claude-sonnet-4-5@20250929"])
def test_https_url_is_fetched_for_a_provider_that_needs_bytes(gw: str, emulator_url: str, media_url: str,
                                                              model: str) -> None:
    r = _ask(gw, model, [{"type": IMAGE, "image_url": {"url": media_url + "/to-cat"}}])
    assert r.status_code == 200, r.text
    (media,) = _received(emulator_url)
    assert media == {"type": "image/png", "bytes": len(PNG), "sha256": _digest(PNG)}


def test_pdf_audio_and_video_where_the_provider_takes_them(gw: str, emulator_url: str, media_url: str) -> None:
    pdf = {"type": "file", "file": {"filename": "report.pdf", "file_data": _data("application/pdf", PDF)}}
    assert _ask(gw, "anthropic-main/claude-sonnet-4-5", [pdf]).status_code == 200
    assert _received(emulator_url)[0]["sha256"] == _digest(PDF)
    assert _ask(gw, BEDROCK, [pdf]).status_code == 200
    assert _received(emulator_url)[0] == {"type": "document/pdf", "bytes": len(PDF), "sha256": _digest(PDF)}
    audio = {"type": "input_audio", "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"}}
    assert _ask(gw, "gemini-main/gemini-2.5-flash", [audio]).status_code == 200
    assert _received(emulator_url)[0]["sha256"] == _digest(WAV)
    video = {"type": "video_url", "video_url": {"url": media_url + "/clip.mp4"}}
    assert _ask(gw, NOVA, [video]).status_code == 200, "fetched, then sent as bytes"
    assert _received(emulator_url)[0] == {"type": "video/mp4", "bytes": len(MP4), "sha256": _digest(MP4)}
    r = _ask(gw, "anthropic-main/claude-sonnet-4-5", [video])
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_feature"


def _refused(r: httpx.Response, code: str = "media_url_refused", status: int = 400) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["param"] == "messages[0].content[1].image_url.url", err
    return err


def test_loopback_is_refused_unless_allowlisted(strict_gw: str, media_url: str) -> None:
    _refused(_ask(strict_gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": media_url + "/cat.png"}}]))


def test_a_name_resolving_to_loopback_is_refused(strict_gw: str, media_url: str) -> None:
    url = media_url.replace("127.0.0.1", "localhost") + "/cat.png"
    _refused(_ask(strict_gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": url}}]))


def test_cloud_metadata_address_is_refused(strict_gw: str) -> None:
    _refused(_ask(strict_gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": "http://169.254.169.254/latest/"}}]))


def test_a_redirect_to_a_private_address_is_refused(gw: str, media_url: str) -> None:
    _refused(_ask(gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": media_url + "/to-metadata"}}]))


def test_plain_http_is_refused_by_default(emulator_url, tmp_path_factory) -> None:
    config = _config(tmp_path_factory, emulator_url, {})
    with run_app(gateway_app(emulator_url, config)) as url:
        r = _ask(url, BEDROCK, [{"type": IMAGE, "image_url": {"url": "http://example.com/cat.png"}}])
    _refused(r, code="invalid_media_url")


def test_oversized_media_is_413(gw: str, media_url: str) -> None:
    _refused(_ask(gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": media_url + "/big.png"}}]),
             code="media_too_large", status=413)


def test_bytes_that_are_not_an_image_are_refused(gw: str, media_url: str) -> None:
    err = _refused(_ask(gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": media_url + "/fake.png"}}]),
                   code="invalid_media_url")
    assert "image/" in err["message"]


def test_too_many_media_parts_are_refused(gw: str, media_url: str) -> None:
    parts = [{"type": IMAGE, "image_url": {"url": media_url + "/cat.png"}}] * 4
    r = _ask(gw, BEDROCK, parts)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_media_url"


def test_unsupported_media_is_refused_before_fetching(gw: str, media_url: str) -> None:
    video = {"type": "video_url", "video_url": {"url": media_url + "/clip.mp4"}}
    r = _ask(gw, BEDROCK, [video])  # Claude on Bedrock takes no video: refused before any fetch
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_feature"


def test_pdf_to_perplexity_arrives_as_a_file_url_part(client, emulator_url: str) -> None:
    """Sonar takes a PDF as `{type: file_url, file_url: {url: <base64>}, file_name}` (the emulator
    once refused that part type); the official client's `file` part gets there intact."""
    pdf = {"type": "file", "file": {"filename": "report.pdf", "file_data": _data("application/pdf", PDF)}}
    r = client.chat.completions.create(model="perplexity-ai-main/sonar-pro", messages=[
        {"role": "user", "content": [{"type": "text", "text": "Summarise"}, pdf]}])
    assert r.choices[0].message.content == "You said: Summarise"
    assert _received(emulator_url) == [{"type": "file_url", "bytes": len(PDF), "sha256": _digest(PDF)}]


@pytest.mark.parametrize("url", ["https://127.0.0.1:99999/x.png", "https://127.0.0.1:abc/x.png", "https://[::1/x.png",
                                 "https://a" + "b" * 300 + ".com/x.png"])
def test_a_malformed_media_url_is_a_400(strict_gw: str, url: str) -> None:
    _refused(_ask(strict_gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": url}}]), code="invalid_media_url")


def test_a_redirect_to_a_data_url_is_a_400(gw: str, media_url: str) -> None:
    _refused(_ask(gw, BEDROCK, [{"type": IMAGE, "image_url": {"url": media_url + "/to-data"}}]),
             code="invalid_media_url")


def test_a_client_leaving_during_a_media_fetch_lets_the_fetch_end(gw: str, emulator_url: str, media_url: str,
                                                                  caplog) -> None:
    """httpcore's pool keeps a connection cancelled while it is handed out (encode/httpcore#1093):
    cancelled fetches used up the media pool for good. A client that leaves mid-fetch is noticed
    once the fetch ends (within media.timeout): 499, and the provider is never called."""
    import logging
    import time
    caplog.set_level(logging.INFO)
    calls = len(httpx.get(emulator_url + "/emulator/media").json()["requests"])
    body = {"model": BEDROCK, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Describe"}, {"type": IMAGE, "image_url": {"url": media_url + "/slow.png"}}]}]}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gw + "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {KEY}",
                                                                    "x-request-id": "left-mid-fetch"},
                   timeout=httpx.Timeout(5, read=0.2))
    deadline = time.monotonic() + 3
    logged: list[dict] = []
    while not logged and time.monotonic() < deadline:
        time.sleep(0.05)
        logged = [json.loads(r.getMessage()) for r in caplog.records if '"left-mid-fetch"' in r.getMessage()]
    assert logged and logged[0]["status"] == 499 and logged[0]["client_gone"] is True
    assert SLOW and SLOW[-1]["hung_up"] is False, "the fetch was cut off while the pool handed it out"
    assert len(httpx.get(emulator_url + "/emulator/media").json()["requests"]) == calls
