"""Upstream signers: keys where providers want them, SigV4 as botocore signs, cached tokens."""
from __future__ import annotations

import sys
import time
import types

import pytest

from engine.gateway.config import Account
from engine.gateway.signing import AuthConfigError, make_signer


def test_key_signers_put_the_key_where_the_provider_wants_it() -> None:
    account = Account("a", "p", key="k-123")
    assert make_signer({"kind": "bearer"}, account)("POST", "https://h/x", {}, b"")[1] == {
        "authorization": "Bearer k-123"}
    assert make_signer({"kind": "header", "header": "x-api-key"}, account)("POST", "https://h/x", {}, b"")[1] == {
        "x-api-key": "k-123"}
    assert make_signer({"kind": "query", "query": "key"}, account)("POST", "https://h/x?a=1", {}, b"")[0] == \
        "https://h/x?a=1&key=k-123"


def test_a_missing_key_is_a_configuration_error_naming_the_account() -> None:
    with pytest.raises(AuthConfigError, match="'a'"):
        make_signer({"kind": "bearer", "env": "NOPE"}, Account("a", "p"))("POST", "https://h", {}, b"")


def test_sigv4_signs_the_double_encoded_path_with_the_bedrock_service(monkeypatch) -> None:
    monkeypatch.setenv("T_KEY", "AKIDEXAMPLE")
    monkeypatch.setenv("T_SECRET", "secret")
    account = Account("a", "bedrock", options={"region": "eu-west-1"},
                      aws={"access_key_id_env": "T_KEY", "secret_access_key_env": "T_SECRET"})
    url = "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-v1%3A0/converse"
    _, headers = make_signer({"kind": "aws_sigv4", "service": "bedrock"}, account)(
        "POST", url, {"content-type": "application/json"}, b"{}")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/bedrock/aws4_request" in headers["Authorization"] and "X-Amz-Date" in headers


def test_token_credential_tokens_are_cached_until_near_expiry(monkeypatch) -> None:
    calls = []

    class Credential:
        def get_token(self, scope):
            calls.append(scope)
            return types.SimpleNamespace(token=f"t{len(calls)}", expires_on=time.time() + 3600)

    module = types.ModuleType("fake_identity")
    module.Credential = Credential
    monkeypatch.setitem(sys.modules, "fake_identity", module)
    sign = make_signer({"kind": "token_credential", "credential": "fake_identity:Credential",
                        "scopes": ["https://cognitiveservices.azure.com/.default"]}, Account("a", "azure-openai"))
    first = sign("POST", "https://r.openai.azure.com/x", {}, b"")[1]
    second = sign("POST", "https://r.openai.azure.com/x", {}, b"")[1]
    assert first == second == {"authorization": "Bearer t1"}
    assert calls == ["https://cognitiveservices.azure.com/.default"]
