"""Gateway configuration: client keys, accounts (provider + credentials + options), limits.

Design decisions:
- A YAML file checked by `specs/_schema/gateway.schema.json`; secrets are named by
  environment variable (`key_env`), never stored inline unless the user insists.
- Without a file, every provider gets a `<provider>-main` account reading its key
  from the variable providers.yaml names, and client keys come from
  SWITCHBOARD_API_KEYS (comma-separated).
- Client keys are compared in constant time, and may be stored as SHA-256 hashes.
- Values that end up in HTTP headers are refused at load if they hold CR or LF, and
  header names must be RFC 9110 tokens.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import SpecError
from ..loader import bundled_root, validate_once
from ..yamlio import decoded, loads_yaml, read_bytes

DEFAULT_LIMITS = {"max_body_bytes": 16 * 1024 * 1024, "body_timeout": 30.0}
# Python's gc threshold (700 allocations) with hundreds of requests in flight ran a collection
# every few requests, and the older-generation ones were the p99 tail (bench: p99 1.61 -> 1.51 s
# on the 500 req/s x 1.5 s setup, and ~10% less CPU per request).
DEFAULT_RUNTIME = {"gc_threshold": [20000, 20, 50]}
DEFAULT_MEDIA = {"max_bytes": 20 * 1024 * 1024, "timeout": 15.0, "max_parts": 20, "allow_http": False, "allow": []}
DEFAULT_UPSTREAM = {"connect_timeout": 10.0, "read_timeout": 300.0, "retries": 2, "backoff_base": 0.25,
                    "backoff_max": 8.0, "retry_after_max": 30.0, "max_connections": 2048, "transport": "aiohttp",
                    "retry_read_timeouts": False}


@dataclass
class Account:
    name: str
    provider: str
    key: str | None = None
    base_url: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    policy: str = "refuse"
    models: list[str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    aws: dict[str, str] = field(default_factory=dict)
    auth: dict[str, Any] | None = None

    def __repr__(self) -> str:  # never print the key
        return f"Account({self.name!r}, provider={self.provider!r})"


@dataclass
class GatewayConfig:
    accounts: dict[str, Account]
    key_digests: list[bytes]
    limits: dict[str, Any]
    upstream: dict[str, Any]
    media: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_MEDIA))
    runtime: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_RUNTIME))

    def client_allowed(self, presented: str | None) -> bool:
        """Constant-time check of a presented client key against every configured one."""
        if not presented:
            return False
        digest = hashlib.sha256(presented.encode()).digest()
        ok = False
        for known in self.key_digests:
            ok |= hmac.compare_digest(digest, known)
        return ok


def _no_crlf(value: str, where: str, label: str) -> str:
    if "\r" in value or "\n" in value:
        raise SpecError("CR or LF in a value that becomes an HTTP header", file=label, where=where)
    return value


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 header field names


def _token(name: str, where: str, label: str) -> str:
    if not _TOKEN.match(name):
        raise SpecError(f"{name!r} is not a valid HTTP header name", file=label, where=where)
    return name


def _secret(env: str | None, inline: str | None, where: str, label: str) -> str | None:
    value = os.environ.get(env) if env else inline
    return _no_crlf(value, where, label) if value else None


def _missing_options(provider: dict, acct: dict) -> list[str]:
    """Options the provider needs (null defaults in providers.yaml) that the account lacks."""
    given = {**{k: v for k, v in provider.get("options", {}).items() if v is not None}, **acct.get("options", {})}
    needed = {k for k, v in provider.get("options", {}).items() if v is None}
    if acct.get("base_url"):  # an own base_url makes the options only the default one uses moot
        needed -= set(re.findall(r"\{(\w+)\}", provider["base_url"]))
    return sorted(needed - set(given))


def _accounts(raw: dict, providers: dict, label: str) -> dict[str, Account]:
    out = {}
    for name, acct in raw.items():
        where = f"accounts.{name}"
        if acct["provider"] not in providers:
            raise SpecError(f"unknown provider {acct['provider']!r}", file=label, where=f"{where}.provider")
        missing = _missing_options(providers[acct["provider"]], acct)
        if missing:
            raise SpecError(f"the {acct['provider']} provider needs the option(s) {missing}", file=label,
                            where=f"{where}.options")
        default_env = providers[acct["provider"]]["auth"].get("env")
        key = _secret(acct.get("key_env", default_env if "key" not in acct else None), acct.get("key"),
                      where, label)
        headers = {_token(k, f"{where}.headers", label): _no_crlf(v, f"{where}.headers.{k}", label)
                   for k, v in acct.get("headers", {}).items()}
        if acct.get("auth", {}).get("header"):
            _token(acct["auth"]["header"], f"{where}.auth.header", label)
        if "@" in urlsplit(acct.get("base_url") or "").netloc:   # the HTTP client refuses it on every call
            raise SpecError("base_url must not carry credentials (user:password@); give the key with key_env",
                            file=label, where=f"{where}.base_url")
        out[name] = Account(name, acct["provider"], key, acct.get("base_url"), dict(acct.get("options", {})),
                            acct.get("policy", "refuse"), acct.get("models"), headers, dict(acct.get("aws", {})),
                            acct.get("auth"))
    return out


def _keys(raw: list, label: str) -> list[bytes]:
    digests = []
    for i, entry in enumerate(raw):
        if "sha256" in entry:
            digests.append(bytes.fromhex(entry["sha256"]))
            continue
        key = _secret(entry.get("key_env"), entry.get("key"), f"keys[{i}]", label)
        if key:
            digests.append(hashlib.sha256(key.encode()).digest())
    return digests


def load_config(path: str | Path | None, providers: dict, *, extra_keys: list[str] = (),
                account_overrides: dict[str, dict] | None = None) -> GatewayConfig:
    """Read the gateway config (or build the default one) and check it against its schema."""
    label = str(path) if path else "(default config)"
    source = read_bytes(Path(path), label) if path else b""
    raw: dict = (loads_yaml(decoded(source, label), label) if path else {}) or {}
    validate_once(raw, source, "gateway", bundled_root(), label)
    # By default one `<provider>-main` account per provider that needs no option the operator
    # must choose (null defaults in providers.yaml: a cloud resource or project name).
    accounts_raw = raw.get("accounts") or {f"{p}-main": {"provider": p} for p, entry in providers.items()
                                           if not _missing_options(entry, {})}
    for name, override in (account_overrides or {}).items():
        accounts_raw = {**accounts_raw, name: {**accounts_raw.get(name, {}), **override}}
    keys_raw = raw.get("keys") or [{"name": f"env-{i}", "key": k} for i, k in enumerate(
        filter(None, os.environ.get("SWITCHBOARD_API_KEYS", "").split(",")))]
    keys_raw = list(keys_raw) + [{"name": f"extra-{i}", "key": k} for i, k in enumerate(extra_keys)]
    return GatewayConfig(_accounts(accounts_raw, providers, label), _keys(keys_raw, label),
                         {**DEFAULT_LIMITS, **raw.get("limits", {})},
                         {**DEFAULT_UPSTREAM, **raw.get("upstream", {})},
                         {**DEFAULT_MEDIA, **raw.get("media", {})},
                         {**DEFAULT_RUNTIME, **raw.get("runtime", {})})
