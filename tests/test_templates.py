"""Templates that need no Jinja (engine/templates.py `_fast`) render exactly as Jinja would.

Each template below is rendered by the fast path and by the sandboxed Jinja environment
the engine uses otherwise, on the same bindings; both give the same text, or both fail."""
from __future__ import annotations

import pytest

from engine.dialect import _JINJA
from engine.errors import TransformError
from engine.templates import _fast

TEMPLATES = [
    "{{ base_url }}/v1/{{ model }}",
    "{{ base_url }}/model/{{ model | quote_all }}/converse",
    "audio/{{ part.input_audio.format }}",
    "{{ deployment | default(model) }}",
    "{{ deployment | default(model) | quote_all }}",
    "{{ deployment | default('fixed') }}",
    "{{ base_url | replace('://global-aiplatform.', '://aiplatform.') | replace('://us-', '://x.') }}/p",
    "{{ model | upper }}-{{ model | lower }}",
    "{{ n }}/{{ flag }}",
]
ENVS = [
    {"base_url": "https://global-aiplatform.example", "model": "a.b-v1:0", "part": {"input_audio": {"format": "wav"}},
     "deployment": "prod/4o", "n": 7, "flag": True},
    {"base_url": "https://us-aiplatform.example", "model": "Gem", "part": {"input_audio": {}}, "n": 0, "flag": False},
    {"model": "m"},
]


def _jinja(template: str, env: dict):
    try:
        return _JINJA.get().from_string(template).render({k: v for k, v in env.items() if v is not None})
    except Exception as exc:  # noqa: BLE001 - any failure counts as "failed"
        return ("failed", type(exc).__name__)


def _ours(template: str, env: dict):
    render = _fast(template, _JINJA.filters)
    assert render is not None, f"{template!r} should not need Jinja"
    try:
        return render(None, env)
    except TransformError as exc:
        return ("failed", type(exc).__name__)


@pytest.mark.parametrize("env", ENVS, ids=["all set", "some unset", "model only"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_the_fast_path_renders_what_jinja_renders(template: str, env: dict) -> None:
    ours, theirs = _ours(template, env), _jinja(template, env)
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple), (ours, theirs)
    else:
        assert ours == theirs


@pytest.mark.parametrize("template", [
    "{{ 'a' if x else 'b' }}", "{% if x %}y{% endif %}", "{{ x ~ y }}", "{{ x | no_such_filter }}",
    "{{ x | replace('a,b', 'c') }}", "{{ x }", "{{ x[0] }}",
])
def test_anything_else_goes_to_jinja(template: str) -> None:
    assert _fast(template, _JINJA.filters) is None


def test_loading_the_bundled_specs_loads_no_template_engine() -> None:
    import subprocess
    import sys
    code = "import sys, engine; engine.load(); print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
