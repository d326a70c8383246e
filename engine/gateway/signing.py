"""Upstream authentication, one small signer per `auth.kind` in providers.yaml.

bearer / header / query put the account's key where the provider wants it;
aws_sigv4 signs with botocore's SigV4 signer (credentials from the account's
environment variables, or the usual AWS chain: env, profile, instance role);
google_oauth uses google-auth (an optional extra) and token_credential any credential
class with get_token(scope) named in the data (Entra ID's, for one); each caches its
token until shortly before it expires, never fetching one per request.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..errors import SwitchboardError
from .config import Account

Signer = Callable[[str, str, dict, bytes], tuple[str, dict]]


class AuthConfigError(SwitchboardError):
    """An account that cannot authenticate upstream (missing key or credentials)."""

    status = 500
    type = "server_error"
    code = "upstream_auth_not_configured"


def _missing(account: Account, what: str) -> AuthConfigError:
    return AuthConfigError(f"account {account.name!r} has no {what} configured for its provider")


def make_signer(auth: dict, account: Account) -> Signer:
    kind = auth["kind"]
    if kind == "none":
        return lambda method, url, headers, body: (url, headers)
    if kind in ("bearer", "header", "query"):
        return _key_signer(kind, auth, account)
    if kind == "aws_sigv4":
        return _aws_signer(auth, account)
    if kind == "google_oauth":
        return _google_signer(auth, account)
    if kind == "token_credential":
        return _credential_signer(auth, account)
    raise AuthConfigError(f"unknown auth kind {kind!r}")


def _key_signer(kind: str, auth: dict, account: Account) -> Signer:
    def sign(method: str, url: str, headers: dict, body: bytes) -> tuple[str, dict]:
        if not account.key:
            raise _missing(account, f"API key (set {auth.get('env', 'key_env')})")
        if kind == "bearer":
            return url, {**headers, "authorization": f"Bearer {account.key}"}
        if kind == "header":
            return url, {**headers, auth["header"]: account.key}
        parts = urlsplit(url)
        query = (parts.query + "&" if parts.query else "") + urlencode({auth["query"]: account.key})
        return urlunsplit(parts._replace(query=query)), headers
    return sign


def _aws_signer(auth: dict, account: Account) -> Signer:
    import os

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.session import Session

    env = account.aws
    if env.get("access_key_id_env"):
        credentials: Any = Credentials(os.environ.get(env["access_key_id_env"], ""),
                                       os.environ.get(env.get("secret_access_key_env", ""), ""),
                                       os.environ.get(env.get("session_token_env", "")) or None)
    else:
        credentials = Session(profile=env.get("profile")).get_credentials()
    region = str(account.options.get("region", "us-east-1"))
    service = auth["service"]  # the SigV4 signing name, from providers.yaml

    def sign(method: str, url: str, headers: dict, body: bytes) -> tuple[str, dict]:
        if credentials is None or not credentials.access_key:
            raise _missing(account, "AWS credentials")
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        SigV4Auth(credentials, service, region).add_auth(request)
        return url, dict(request.headers.items())
    return sign


def _google_signer(auth: dict, account: Account) -> Signer:
    try:
        import google.auth
        import google.auth.transport.requests
    except ImportError:
        raise AuthConfigError("google_oauth needs the optional extra: pip install 'switchboard-gateway[google]'") from None
    scopes = auth.get("scopes") or ["https://www.googleapis.com/auth/cloud-platform"]
    credentials, _ = google.auth.default(scopes=scopes)
    lock = threading.Lock()

    def sign(method: str, url: str, headers: dict, body: bytes) -> tuple[str, dict]:
        with lock:  # refresh once, ahead of expiry, for all requests sharing the account
            expiry = getattr(credentials, "expiry", None)
            if not credentials.valid or (expiry and expiry.timestamp() - time.time() < 300):
                credentials.refresh(google.auth.transport.requests.Request())
            token = credentials.token
        return url, {**headers, "authorization": f"Bearer {token}"}
    return sign


def _credential_signer(auth: dict, account: Account) -> Signer:
    """Bearer tokens from any credential object with `get_token(scope)` (the interface of
    Microsoft's identity library, for one), named in providers.yaml or the account as
    `credential: "module:Class"`; refreshed shortly before they expire, never per request."""
    import importlib
    module_name, _, attr = auth.get("credential", "").partition(":")
    try:
        credential = getattr(importlib.import_module(module_name), attr)()
    except (ImportError, AttributeError, ValueError) as exc:
        raise AuthConfigError(f"cannot load the token credential {auth.get('credential')!r}: {exc}") from None
    scope = (auth.get("scopes") or [""])[0]
    lock = threading.Lock()
    cached: dict[str, Any] = {}

    def sign(method: str, url: str, headers: dict, body: bytes) -> tuple[str, dict]:
        with lock:
            token = cached.get("token")
            if token is None or token.expires_on - time.time() < 300:
                token = cached["token"] = credential.get_token(scope)
        return url, {**headers, "authorization": f"Bearer {token.token}"}
    return sign
