"""The provider x feature support table, generated from capabilities.yaml.

Three states per cell, as the seed product's table has them: supported (the
provider has it and our spec maps it), provider-only (the provider has it; no
mapping yet) and unsupported (the provider lacks it). A cell whose state depends
on the model (per-model rules) shows its most capable state and a dagger.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .switchboard import Switchboard

SYMBOLS = {"supported": "✅", "provider_only": "❌", "unsupported": "➖"}
LEGEND = {
    "supported": "Supported by the provider and by Switchboard",
    "provider_only": "Provided by the provider, but not by Switchboard yet",
    "unsupported": "The provider does not support this feature",
}
_RANK = {"unsupported": 0, "provider_only": 1, "supported": 2}


def _cells(kind: str, row: Any, catalogue: dict) -> dict[str, dict]:
    out = {}
    for key in catalogue:
        base = getattr(row, kind).get(key)
        states = {base.state} if base else {"unsupported"}
        notes = [base.note] if base and base.note else []
        for rule in row.gated:
            cell = getattr(rule, kind).get(key)
            if cell is not None and not rule.when:
                states.add(cell.state)
                if cell.note:
                    notes.append(cell.note)
        best = max(states, key=_RANK.__getitem__)
        out[key] = {"state": best, "by_model": len(states) > 1, "notes": notes}
    return out


def matrix_data(sb: "Switchboard") -> dict:
    matrix = sb.matrix
    providers = []
    for name, entry in sb.providers.items():
        row = matrix.rows[name]
        providers.append({"id": name, "title": entry["title"], "spec": entry["spec"],
                          "features": _cells("features", row, matrix.features),
                          "params": _cells("params", row, matrix.params)})
    features = [{"id": f.id, "title": f.title, "detect": _detect_text(sb, f.id)}
                for f in matrix.features.values() if f.column]
    params = [{"id": p.id, "param": p.param} for p in matrix.params.values()]
    return {"legend": LEGEND, "features": features, "params": params, "providers": providers}


def _detect_text(sb: "Switchboard", fid: str) -> str:
    return sb._raw_capabilities["features"][fid]["detect"]


def _symbol(cell: dict) -> str:
    return SYMBOLS[cell["state"]] + ("†" if cell["by_model"] else "")


def render_markdown(data: dict, params: bool = False) -> str:
    columns = data["params"] if params else data["features"]
    key, title = ("params", "param") if params else ("features", "title")
    lines = ["| Provider | " + " | ".join(c[title] for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for row in data["providers"]:
        lines.append(f"| {row['title']} | " + " | ".join(_symbol(row[key][c["id"]]) for c in columns) + " |")
    lines += ["", "Legend:"]
    lines += [f"- {SYMBOLS[s]} {text}" for s, text in data["legend"].items()]
    lines.append("- † depends on the model (per-model rules in capabilities.yaml)")
    return "\n".join(lines) + "\n"


def render_html(data: dict, params: bool = False) -> str:
    columns = data["params"] if params else data["features"]
    key, title = ("params", "param") if params else ("features", "title")
    head = "".join(f"<th>{html.escape(c[title])}</th>" for c in columns)
    rows = []
    for row in data["providers"]:
        cells = "".join(
            f'<td class="{row[key][c["id"]]["state"]}" title="{html.escape("; ".join(row[key][c["id"]]["notes"]))}">'
            f"{_symbol(row[key][c['id']])}</td>" for c in columns)
        rows.append(f"<tr><th>{html.escape(row['title'])}</th>{cells}</tr>")
    legend = "".join(f"<li>{SYMBOLS[s]} {html.escape(t)}</li>" for s, t in data["legend"].items())
    return (f"<table>\n<thead><tr><th>Provider</th>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + f"\n</tbody>\n</table>\n<ul>{legend}"
            "<li>† depends on the model</li></ul>\n")
