"""Finding, checking and merging the data files: providers.yaml, capabilities.yaml, specs/.

Every file is validated against its JSON Schema in `specs/_schema/` before anything is
compiled (python-jsonschema's `check_schema` habit); an error names the file, the
YAML path inside it and what is wrong. `extends:` chains are merged with JSON Merge
Patch semantics; cycles and missing bases are errors. A spec's `examples` belong to
the file that states them and are not inherited.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import SpecError
from .merge import merge_patch
from .speccache import cached
from .yamlio import decoded, loads_yaml, read_bytes

_EXAMPLES = re.compile(r"^examples:", re.M)  # the top-level key; its list is only read by tests and tools

PACKAGE = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """The data shipped in the wheel (engine/_data), else the source checkout."""
    data = PACKAGE / "_data"
    return data if (data / "providers.yaml").exists() else PACKAGE.parent


@lru_cache(maxsize=None)
def _validator(schema_path: Path) -> Any:
    from jsonschema import Draft202012Validator  # deferred: ~40 ms of import
    # The schemas themselves are checked against the metaschema by the tests, not at every load.
    return Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))


def _schema_path(schema: str, root: Path) -> Path:
    path = root / "specs" / "_schema" / f"{schema}.schema.json"
    return path if path.exists() else bundled_root() / "specs" / "_schema" / f"{schema}.schema.json"


def validate(data: Any, schema: str, root: Path, label: str) -> None:
    from jsonschema.exceptions import best_match
    error = best_match(_validator(_schema_path(schema, root)).iter_errors(data))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise SpecError(error.message, file=label, where=where)


def validate_once(data: Any, source: bytes, schema: str, root: Path, label: str) -> None:
    """`validate`, remembered by content (speccache): once a file's bytes passed, the processes
    that read it again (every server worker) skip jsonschema, its import included. Only the pass
    is stored, never the data: a gateway config may hold secrets."""
    schema_bytes = _schema_path(schema, root).read_bytes()
    cached([source, schema_bytes, b"verdict"], lambda: validate(data, schema, root, label) or True)


class SpecFiles:
    """Raw spec files under `root/specs`, resolved through `extends:`."""

    def __init__(self, root: Path):
        self.root = root
        self._raw: dict[str, dict] = {}
        self._head: dict[str, dict] = {}

    def names(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "specs").glob("*.yaml"))

    def _path(self, name: str) -> tuple[Path, str]:
        path, label = self.root / "specs" / f"{name}.yaml", f"specs/{name}.yaml"
        if not path.exists():
            raise SpecError("no such spec file", file=label)
        return path, label

    def raw(self, name: str) -> dict:
        """The whole file, examples included (tests and tools read these)."""
        if name not in self._raw:
            path, label = self._path(name)
            self._raw[name] = read_checked(path, label, "spec", self.root)
        return self._raw[name]

    def head(self, name: str) -> dict:
        """The spec without its `examples:` list: all that serving needs. Examples are most
        of a spec file's bytes, so serving never parses them (cold start)."""
        if name in self._raw:
            return {k: v for k, v in self._raw[name].items() if k != "examples"}
        if name not in self._head:
            path, label = self._path(name)
            self._head[name] = read_checked(path, label, "spec", self.root, cut_examples=True)
        return self._head[name]

    def resolved(self, name: str) -> dict:
        """The spec with its bases merged in (base first, then each overlay)."""
        chain, seen = [], set()
        current: str | None = name
        while current is not None:
            if current in seen:
                raise SpecError(f"extends cycle: {' -> '.join(chain + [current])}",
                                file=f"specs/{name}.yaml", where="extends")
            seen.add(current)
            chain.append(current)
            current = self.head(current).get("extends")
        merged: dict = {}
        for i, part in enumerate(reversed(chain)):
            overlay = {k: v for k, v in self.head(part).items() if k != "abstract"}
            merged = overlay if i == 0 else merge_patch(merged, overlay)
        merged.pop("extends", None)
        if self.head(name).get("abstract"):
            merged["abstract"] = True
        return merged


def load_tables(root: Path) -> tuple[dict, dict]:
    providers = read_checked(root / "providers.yaml", "providers.yaml", "providers", root)
    capabilities = read_checked(root / "capabilities.yaml", "capabilities.yaml", "capabilities", root)
    left = set(providers["providers"]) ^ set(capabilities["providers"])
    if left:
        raise SpecError(f"providers.yaml and capabilities.yaml disagree on providers {sorted(left)}",
                        file="capabilities.yaml", where="providers")
    return providers["providers"], capabilities


def read_checked(path: Path, label: str, schema: str, root: Path, cut_examples: bool = False) -> Any:
    """Parse and validate one data file, through the content-keyed cache (speccache)."""
    raw = read_bytes(path, label)

    def build() -> Any:
        text = decoded(raw, label)
        cut = _EXAMPLES.search(text) if cut_examples else None
        data = loads_yaml(text[: cut.start()] if cut else text, label)
        validate(data, schema, root, label)
        return data
    schema_bytes = _schema_path(schema, root).read_bytes()
    return cached([raw, schema_bytes, b"head" if cut_examples else b"all"], build)
