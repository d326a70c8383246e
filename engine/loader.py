"""Finding, checking and merging the data files: providers.yaml, capabilities.yaml, specs/.

Every file is validated against its JSON Schema in `specs/_schema/` before anything is
compiled (python-jsonschema's `check_schema` habit); an error names the file, the
YAML path inside it and what is wrong. `extends:` chains are merged with JSON Merge
Patch semantics; cycles and missing bases are errors. A spec's `examples` belong to
the file that states them and are not inherited.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .errors import SpecError
from .merge import merge_patch
from .yamlio import load_yaml

PACKAGE = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """The data shipped in the wheel (engine/_data), else the source checkout."""
    data = PACKAGE / "_data"
    return data if (data / "providers.yaml").exists() else PACKAGE.parent


@lru_cache(maxsize=None)
def _validator(schema_path: Path) -> Draft202012Validator:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate(data: Any, schema: str, root: Path, label: str) -> None:
    schema_path = root / "specs" / "_schema" / f"{schema}.schema.json"
    if not schema_path.exists():
        schema_path = bundled_root() / "specs" / "_schema" / f"{schema}.schema.json"
    error = best_match(_validator(schema_path).iter_errors(data))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise SpecError(error.message, file=label, where=where)


class SpecFiles:
    """Raw spec files under `root/specs`, resolved through `extends:`."""

    def __init__(self, root: Path):
        self.root = root
        self._raw: dict[str, dict] = {}

    def names(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "specs").glob("*.yaml"))

    def raw(self, name: str) -> dict:
        if name not in self._raw:
            path = self.root / "specs" / f"{name}.yaml"
            label = f"specs/{name}.yaml"
            if not path.exists():
                raise SpecError("no such spec file", file=label)
            data = load_yaml(path, label)
            validate(data, "spec", self.root, label)
            self._raw[name] = data
        return self._raw[name]

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
            current = self.raw(current).get("extends")
        merged: dict = {}
        for i, part in enumerate(reversed(chain)):
            overlay = {k: v for k, v in self.raw(part).items() if k not in ("examples", "abstract")}
            merged = overlay if i == 0 else merge_patch(merged, overlay)
        merged.pop("extends", None)
        merged["examples"] = self.raw(name).get("examples", [])
        if self.raw(name).get("abstract"):
            merged["abstract"] = True
        validate(merged, "spec", self.root, f"specs/{name}.yaml (merged)")
        return merged


def load_tables(root: Path) -> tuple[dict, dict]:
    providers = load_yaml(root / "providers.yaml", "providers.yaml")
    validate(providers, "providers", root, "providers.yaml")
    capabilities = load_yaml(root / "capabilities.yaml", "capabilities.yaml")
    validate(capabilities, "capabilities", root, "capabilities.yaml")
    left = set(providers["providers"]) ^ set(capabilities["providers"])
    if left:
        raise SpecError(f"providers.yaml and capabilities.yaml disagree on providers {sorted(left)}",
                        file="capabilities.yaml", where="providers")
    return providers["providers"], capabilities
