"""Fetching media URLs for providers that need bytes, without becoming an SSRF proxy.

Design decisions:
- https only unless the config allows http; a size cap (read incrementally), a time
  limit, and a cap on the number of media parts per request.
- Every address a host name resolves to must be public: loopback, private, link-local
  (cloud metadata lives there), shared, multicast, reserved and unspecified addresses
  are refused unless the config's `allow` list names the host or a network holding it.
  The connection goes to the address that was checked (the Host header and TLS SNI
  keep the name), so DNS cannot answer differently between the check and the fetch.
- Redirects are followed by hand, at most 3, each one checked like the first URL.
- The bytes decide the MIME type (magic numbers); a declared type that disagrees with
  them, or bytes of the wrong kind for the part, are refused.
"""
from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from ..errors import RequestError
from ..media import MediaRef

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf"), (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"OggS", "audio/ogg"), (b"fLaC", "audio/flac"), (b"ID3", "audio/mpeg"),
]
_KIND_PREFIX = {"image_url": "image/", "video_url": "video/"}


class MediaError(RequestError):
    code = "invalid_media_url"


class MediaTooLarge(MediaError):
    status = 413
    code = "media_too_large"


def sniff(data: bytes) -> str | None:
    """The MIME type the bytes themselves declare, for the formats providers take."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    if data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return None


class MediaFetcher:
    def __init__(self, settings: dict[str, Any], transport: Any = None):
        self.settings = settings
        self.allow = [_allow_entry(a) for a in settings.get("allow", ())]
        self.client = httpx.AsyncClient(timeout=settings["timeout"], follow_redirects=False, trust_env=False,
                                        transport=transport, limits=httpx.Limits(max_connections=64))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fetch_all(self, refs: list[MediaRef]) -> dict[MediaRef, str]:
        if len(refs) > self.settings["max_parts"]:
            raise MediaError(f"{len(refs)} media URLs to fetch; the limit is {self.settings['max_parts']}",
                             param=refs[self.settings["max_parts"]].param)
        try:
            urls = await asyncio.wait_for(asyncio.gather(*(self._fetch(r) for r in refs)),
                                          self.settings["timeout"])
        except asyncio.TimeoutError:
            raise MediaError("fetching the media URLs took too long", param=refs[0].param) from None
        return dict(zip(refs, urls))

    async def _fetch(self, ref: MediaRef) -> str:
        url = ref.url
        for _ in range(4):
            target, host = await self._checked(url, ref)
            request = self.client.build_request("GET", target, headers={"host": host, "accept": "*/*"},
                                                extensions={"sni_hostname": urlsplit(url).hostname})
            try:
                response = await self.client.send(request, stream=True)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise MediaError(f"could not fetch the media URL: {type(exc).__name__}", param=ref.param) from None
            async with _closing(response):
                if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise MediaError(f"the media URL answered HTTP {response.status_code}", param=ref.param)
                data = await self._read(response, ref)
            return self._data_url(data, response.headers.get("content-type", ""), ref)
        raise MediaError("the media URL redirected too many times", param=ref.param)

    async def _checked(self, url: str, ref: MediaRef) -> tuple[str, str]:
        """The URL to connect to (host replaced by a checked address) and the Host header."""
        try:   # a malformed URL (bad port, broken IPv6 literal, an over-long label) is the client's
            parts = urlsplit(url)
            given_port = parts.port
        except ValueError as exc:
            raise MediaError(f"the media URL is malformed: {exc}", param=ref.param) from None
        allowed_schemes = ("https", "http") if self.settings["allow_http"] else ("https",)
        if parts.scheme not in allowed_schemes or not parts.hostname:
            raise MediaError(f"media URLs must be {' or '.join(allowed_schemes)}", param=ref.param)
        port = given_port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise MediaError(f"cannot resolve the media host {parts.hostname[:100]!r}", param=ref.param) from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        for address in addresses:
            if not _public(address) and not self._allowed(parts.hostname, address):
                raise MediaError(f"the media host {parts.hostname!r} resolves to a non-public address; "
                                 "refused", param=ref.param, code="media_url_refused")
        address = addresses[0]
        netloc = f"[{address}]" if address.version == 6 else str(address)
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        return urlunsplit(parts._replace(netloc=f"{netloc}:{port}")), host

    def _allowed(self, host: str, address: Any) -> bool:
        return any(entry == host or (not isinstance(entry, str) and address in entry) for entry in self.allow)

    async def _read(self, response: httpx.Response, ref: MediaRef) -> bytes:
        limit = self.settings["max_bytes"]
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise MediaTooLarge(f"the media is {declared} bytes; the limit is {limit}", param=ref.param)
        data = bytearray()
        async for piece in response.aiter_bytes():
            data += piece
            if len(data) > limit:
                raise MediaTooLarge(f"the media is over the limit of {limit} bytes", param=ref.param)
        return bytes(data)

    @staticmethod
    def _data_url(data: bytes, declared: str, ref: MediaRef) -> str:
        mime = sniff(data)
        declared = declared.split(";")[0].strip().lower()
        if mime is None or not mime.startswith(_KIND_PREFIX[ref.kind]):
            raise MediaError(f"the media URL did not return {_KIND_PREFIX[ref.kind]}* bytes "
                             f"(declared {declared or 'nothing'})", param=ref.param)
        if declared and declared != "application/octet-stream" and declared.split("/")[0] != mime.split("/")[0]:
            raise MediaError(f"the media URL declared {declared} but sent {mime}", param=ref.param)
        return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _public(address: Any) -> bool:
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified or address in _SHARED
                or (address.version == 6 and address.ipv4_mapped is not None
                    and not _public(address.ipv4_mapped)))


def _allow_entry(entry: str) -> Any:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return entry.lower()


class _closing:
    def __init__(self, response: httpx.Response):
        self.response = response

    async def __aenter__(self) -> httpx.Response:
        return self.response

    async def __aexit__(self, *exc: Any) -> None:
        await self.response.aclose()
