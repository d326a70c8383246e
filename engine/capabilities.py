"""The provider x feature / parameter matrix: resolution per model, detection, refusal.

Design decisions:
- The matrix is data (`capabilities.yaml`); this module only interprets it. A cell is
  `supported`, `provider_only` (the provider has it, the spec does not map it yet) or
  `unsupported` (the provider lacks it), optionally with value limits.
- Per-model rules (glob patterns) are resolved once per (provider, model) and cached;
  rules gated on request features (`when: [reasoning]`) are overlaid per request.
- A request is checked before any I/O. Features are never dropped; parameters are
  refused, or dropped and reported under the `drop` policy. Reports are data:
  {type: dropped|clamped|compatibility|unsupported, param, message}.
- The check is planned per resolved row: only the features whose detection can change the
  outcome for that row are detected (one generated function per such set), and parameters
  whose cell is a plain `supported` are passed over by one set lookup. Detecting every
  feature and walking every cell was a third of an OpenAI request's translation time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from . import exprgen
from .cells import NUMBERS, Cell, Globs, bounds_of, out_of_range, plain_keys, shown
from .codegen import Entry, Module, direct
from .errors import SpecError, UnsupportedFeature
from .expr import ExprError, bindings, truthy

STATES = ("supported", "provider_only", "unsupported")


@dataclass(frozen=True)
class Feature:
    id: str
    title: str
    detect: Callable[[Any, dict], Any]
    param: str | None
    column: bool
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    id: str
    detect: Callable[[Any, dict], Any] | None
    param: str
    drop: tuple[str, ...]


@dataclass
class Rule:
    models: Globs
    excluded: Globs
    when: tuple[str, ...]
    features: dict[str, Cell]
    params: dict[str, Cell]
    traits: dict[str, Any]

    def matches_model(self, model: str) -> bool:
        if self.models and not self.models.match(model):
            return False
        return not (self.excluded and self.excluded.match(model))


@dataclass
class Resolved:
    """The effective row for one (provider, model), before request-gated rules; `plan` says
    what a request must be checked for against it."""
    features: dict[str, Cell]
    params: dict[str, Cell]
    traits: dict[str, Any]
    gated: list[Rule] = field(default_factory=list)
    plan: "Plan | None" = None


@dataclass(frozen=True)
class Plan:
    detect: Callable[[Any, Any], tuple[str, ...]]   # the watched features a request uses
    plain: frozenset[str]                            # keys passed over: plain `supported` cells
    detected: tuple[tuple["Param", Callable], ...]   # detected params whose cell is not supported
    ranges: dict[str, tuple[float, float]]           # supported cells with only bounds: (min, max)


@dataclass(slots=True)
class Checked:
    request: dict
    reports: list[dict]
    active: tuple[str, ...]
    traits: dict[str, Any]


class Matrix:
    def __init__(self, raw: dict, file: str = "capabilities.yaml"):
        self.file = file
        self.module = Module(file, {**exprgen.SCOPE, "_facts": request_facts})
        self.features = {fid: self._feature(fid, f) for fid, f in raw["features"].items()}
        self.params = {pid: self._param(pid, p or {}) for pid, p in raw["params"].items()}
        self._detect_text = {fid: f["detect"] for fid, f in raw["features"].items()}
        self._detectors: dict[tuple[str, ...], Entry] = {}
        self._detect_all = self._detector(tuple(self.features))
        self._detected_params = tuple(p for p in self.params.values() if p.detect is not None)
        self.core = frozenset(raw.get("core", ()))
        # keys checked otherwise than by their presence: the contract's core, and detected params
        self._not_by_key = self.core | {p.id for p in self._detected_params}
        self.rows = {name: self._row(name, row) for name, row in raw["providers"].items()}
        self._cache: dict[tuple[str, str], Resolved] = {}

    # -- loading -----------------------------------------------------------------
    def _source(self, text: str, where: str) -> str:
        try:
            return exprgen.source(text, self.module)
        except ExprError as exc:
            raise SpecError(str(exc), file=self.file, where=where) from None

    def _expr(self, text: str, where: str) -> Entry:
        return self.module.entry(self._source(text, where))

    def _detector(self, watch: tuple[str, ...]) -> Entry:
        """One generated function runs the detection of every feature in `watch`, in order.
        It takes the request and its `request_facts` (None: gathered here when a detection reads them)."""
        found = self._detectors.get(watch)
        if found is not None:
            return found
        name = self.module.name("active")
        lines = [f"def {name}(cur, facts):", "    out = []"]
        used = set().union(*(bindings(self._detect_text[fid]) for fid in watch))
        lines.append("    env = facts or _facts(cur)" if used - {"request"} else "    env = {'request': cur}")
        for fid in watch:
            test = self._source(self._detect_text[fid], f"features.{fid}.detect")
            lines += [f"    if {exprgen.truth(test, self.module.temp())}:", f"        out.append({fid!r})"]
        self.module.add(lines + ["    return tuple(out)"])
        entry = self._detectors[watch] = self.module.entry_of(name)
        return entry

    def _plan(self, row: Resolved) -> Plan:
        """Watched: every feature whose cell is not a plain `supported`, and every feature a
        request-gated rule names; the others cannot change the outcome, so go undetected."""
        keep = {fid for fid, cell in row.features.items() if cell.state != "supported" or cell.note}
        for rule in row.gated:
            keep.update(rule.when)
            keep.update(rule.features)
        watch = tuple(fid for fid in self.features if fid in keep)
        detect = self._detector(watch)
        self.module.load()  # compiles what is new (this detector, the first time: everything)
        return Plan(direct(detect), plain_keys(row.params) - self._not_by_key,
                    self._detecting([p for p in self._detected_params if not _supported(row.params.get(p.id))]),
                    bounds_of(row.params, self._not_by_key))

    def _detecting(self, params: list[Param]) -> tuple[tuple[Param, Callable], ...]:
        self.module.load()
        return tuple((p, direct(p.detect)) for p in params)

    def _feature(self, fid: str, raw: dict) -> Feature:
        return Feature(fid, raw["title"], self._expr(raw["detect"], f"features.{fid}.detect"),
                       raw.get("param"), raw.get("column", True), tuple(raw.get("parts", ())))

    def _param(self, pid: str, raw: dict) -> Param:
        detect = self._expr(raw["detect"], f"params.{pid}.detect") if "detect" in raw else None
        drop = tuple(raw.get("drop", pid).split("."))
        return Param(pid, detect, raw.get("param", pid), drop)

    def _cells(self, raw: dict, kind: str, where: str) -> dict[str, Cell]:
        known = self.features if kind == "features" else self.params
        for key in raw:
            if key not in known:
                raise SpecError(f"unknown {kind[:-1]} {key!r}", file=self.file, where=f"{where}.{key}")
        return {key: Cell.of(value) for key, value in raw.items()}

    def _row(self, name: str, raw: dict) -> Resolved:
        where = f"providers.{name}"
        features = self._cells(raw["features"], "features", f"{where}.features")
        missing = sorted(set(self.features) - set(features))
        if missing:
            raise SpecError(f"no cell for features {missing}", file=self.file, where=f"{where}.features")
        rules = []
        for i, rule in enumerate(raw.get("rules", ())):
            rw = f"{where}.rules[{i}]"
            for fid in rule.get("when", ()):
                if fid not in self.features:
                    raise SpecError(f"unknown feature {fid!r}", file=self.file, where=f"{rw}.when")
            rules.append(Rule(
                Globs(rule.get("models")),
                Globs(rule.get("except")),
                tuple(rule.get("when", ())),
                self._cells(rule.get("features", {}), "features", f"{rw}.features"),
                self._cells(rule.get("params", {}), "params", f"{rw}.params"),
                dict(rule.get("traits", {}))))
        row = Resolved(features, self._cells(raw["params"], "params", f"{where}.params"),
                       dict(raw.get("traits", {})))
        row.gated = rules
        return row

    # -- resolution --------------------------------------------------------------
    def resolve(self, provider: str, model: str) -> Resolved:
        key = (provider, model)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        row = self.rows[provider]
        features, params, traits = dict(row.features), dict(row.params), dict(row.traits)
        gated = []
        for rule in row.gated:
            if not rule.matches_model(model):
                continue
            if rule.when:
                gated.append(rule)
                continue
            features.update(rule.features)
            params.update(rule.params)
            traits.update(rule.traits)
        resolved = Resolved(features, params, traits, gated)
        resolved.plan = self._plan(resolved)
        if len(self._cache) < 4096:
            self._cache[key] = resolved
        return resolved

    def active_features(self, request: dict) -> tuple[str, ...]:
        """Every feature the request uses (the check itself detects only the watched ones)."""
        detect = self._detect_all = direct(self._detect_all)  # the plain function once compiled
        return detect(request, None)

    # -- checking ----------------------------------------------------------------
    def check(self, provider: str, model: str, request: dict, policy: str = "refuse",
              facts: dict | None = None) -> Checked:
        """Refuse (or drop) what (provider, model) does not support; raises UnsupportedFeature.
        `Checked.active` lists the used features this row watches (see `_plan`); `facts` are the
        request's `request_facts` when the caller has them (`check_request` gathers them)."""
        row = self.resolve(provider, model)
        plan = row.plan
        active = plan.detect(request, facts)
        features, params, traits = row.features, row.params, row.traits
        plain, detected, ranges = plan.plain, plan.detected, plan.ranges
        for rule in row.gated:
            if rule.when[0] in active and all(w in active for w in rule.when):
                features = {**features, **rule.features}
                params = {**params, **rule.params}
                traits = {**traits, **rule.traits}
                plain, detected, ranges = frozenset(), self._detecting(list(self._detected_params)), {}
        reports: list[dict] = []
        for fid in active:
            cell = features.get(fid)
            feature = self.features[fid]
            if cell is None or cell.state != "supported":
                raise UnsupportedFeature(
                    f"{provider} does not support {feature.title} for model {model!r}"
                    + (" (the provider has it; this spec does not map it yet)"
                       if cell and cell.state == "provider_only" else "")
                    + (f": {cell.note}" if cell and cell.note else ""),
                    param=_locate(request, feature), provider=provider, model=model, feature=fid)
            if cell.note:
                reports.append({"type": "compatibility", "param": feature.param, "message": cell.note})
        request = self._check_params(provider, model, request, params, policy, reports, plain, detected,
                                     ranges)
        return Checked(request, reports, active, traits)

    def _check_params(self, provider: str, model: str, request: dict, cells: dict[str, Cell],
                      policy: str, reports: list[dict], plain: frozenset[str],
                      detected: tuple[tuple[Param, Callable], ...],
                      ranges: dict[str, tuple[float, float]]) -> dict:
        out = request
        skip = self._not_by_key
        for key, value in request.items():
            if key in plain or value is None or key in skip:
                continue
            bounds = ranges.get(key)  # a number within a plain range: nothing more to check
            if bounds is not None and value.__class__ in NUMBERS and bounds[0] <= value <= bounds[1]:
                continue
            param = self.params.get(key)
            if param is None:
                out = self._refuse_or_drop(provider, model, out, key, (key,), "unknown_parameter",
                                           f"unknown parameter {key!r}", policy, reports)
                continue
            out = self._check_one(provider, model, out, param, cells.get(key), value, policy, reports)
        for param, detect in detected:
            if truthy(detect(request, {"request": request})):
                out = self._check_one(provider, model, out, param, cells.get(param.id), None,
                                      policy, reports)
        return out

    def _check_one(self, provider: str, model: str, request: dict, param: Param, cell: Cell | None,
                   value: Any, policy: str, reports: list[dict]) -> dict:
        if cell is None or cell.state != "supported":
            why = f"{provider} does not support parameter {param.param!r} for model {model!r}"
            if cell and cell.note:
                why += f": {cell.note}"
            return self._refuse_or_drop(provider, model, request, param.param, param.drop,
                                        "unsupported_parameter", why, policy, reports)
        if value is None:
            return request
        bad = out_of_range(cell, value)
        if bad is None:
            return request
        if cell.clamp and isinstance(value, (int, float)) and not isinstance(value, bool):
            clamped = min(max(value, cell.min if cell.min is not None else value),
                          cell.max if cell.max is not None else value)
            reports.append({"type": "clamped", "param": param.param,
                            "message": f"{param.param} {value} {bad}; sent {clamped}"})
            return {**request, param.id: clamped}
        return self._refuse_or_drop(provider, model, request, param.param, param.drop,
                                    "unsupported_value",
                                    f"{provider} does not accept {param.param}={shown(value)} for model "
                                    f"{model!r}: {bad}" + (f" ({cell.note})" if cell.note else ""),
                                    policy, reports)

    @staticmethod
    def _refuse_or_drop(provider: str, model: str, request: dict, param: str, drop: tuple,
                        code: str, message: str, policy: str, reports: list[dict]) -> dict:
        if policy != "drop":
            raise UnsupportedFeature(message, param=param, code=code, provider=provider,
                                     model=model, feature=param)
        reports.append({"type": "dropped", "param": param, "message": message})
        return drop_path(request, drop)


def _supported(cell: Cell | None) -> bool:
    return cell is not None and cell.state == "supported"


def _locate(request: dict, feature: Feature) -> str | None:
    """The first content part that uses the feature (`messages[1].content[2]`), else its param."""
    for i, message in enumerate(request.get("messages") or ()):
        content = message.get("content") if isinstance(message, dict) else None
        for j, part in enumerate(content if isinstance(content, list) else ()):
            if isinstance(part, dict) and part.get("type") in feature.parts:
                return f"messages[{i}].content[{j}]"
    return feature.param


def request_facts(request: dict) -> dict[str, Any]:
    """Facts about an OpenAI request that several detections need, gathered in one pass
    (bindings for `detect:` expressions): `$part_types`, the content part types used;
    `$cache_marked`, whether any part or tool carries cache_control; and `$request` itself."""
    types: set[str] = set()
    marked = bool(request.get("cache_control"))
    for message in request.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict):
                    kind = part.get("type")
                    if isinstance(kind, str):
                        types.add(kind)
                    marked = marked or part.get("cache_control") is not None
    for tool in request.get("tools") or ():
        marked = marked or (isinstance(tool, dict) and tool.get("cache_control") is not None)
    return {"part_types": sorted(types), "cache_marked": marked, "request": request}


def drop_path(data: Any, path: tuple[str, ...]) -> Any:
    """Copy of `data` without the key at `path`; a segment ending in [] walks a list."""
    if not path or not isinstance(data, dict):
        return data
    head, rest = path[0], path[1:]
    if head.endswith("[]"):
        key = head[:-2]
        items = data.get(key)
        if not isinstance(items, list):
            return data
        return {**data, key: [drop_path(item, rest) for item in items]}
    if not rest:
        return {k: v for k, v in data.items() if k != head}
    if head not in data:
        return data
    return {**data, head: drop_path(data[head], rest)}
