"""The `switchboard` command: validate, translate, table, spec."""
from __future__ import annotations

import io
import json
import sys

import pytest

from engine.cli import main


def run(argv: list[str], stdin: str | None, capsys) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(argv)
    finally:
        sys.stdin = sys.__stdin__
    out = capsys.readouterr()
    return code, out.out, out.err


def test_validate_passes_on_the_bundled_data(capsys) -> None:
    code, out, err = run(["validate"], None, capsys)
    assert code == 0, err
    assert out.startswith("ok: 15 providers")


def test_translate_prints_the_http_request(capsys) -> None:
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2}
    code, out, _ = run(["translate", "gemini", "-"], json.dumps(body), capsys)
    printed = json.loads(out)
    assert code == 0 and printed["method"] == "POST"
    assert printed["url"].endswith("/models/gemini-2.5-flash:generateContent")
    assert printed["body"]["generationConfig"] == {"temperature": 0.2}


def test_translate_refusal_is_an_openai_error_on_stderr(capsys) -> None:
    body = {"model": "o3-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2}
    code, out, err = run(["translate", "openai"], json.dumps(body), capsys)
    assert code == 2 and out == ""
    assert json.loads(err)["error"]["code"] == "unsupported_parameter"


def test_translate_bad_json_is_a_clean_error(capsys) -> None:
    code, out, _ = run(["translate", "openai"], "{nope", capsys)
    assert code == 2 and json.loads(out)["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_table_formats(fmt: str, capsys) -> None:
    code, out, _ = run(["table", "--format", fmt], None, capsys)
    assert code == 0
    for title in ("OpenAI", "Azure OpenAI", "Perplexity-AI", "DeepInfra"):
        assert title in out
    if fmt == "json":
        assert len(json.loads(out)["providers"]) == 15
    if fmt == "md":
        assert "Provided by the provider, but not by Switchboard yet" in out


def test_spec_resolved_shows_the_merged_spec(capsys) -> None:
    code, out, _ = run(["spec", "groq", "--resolved"], None, capsys)
    assert code == 0 and "x_groq.usage" in out and "request_message" in out
