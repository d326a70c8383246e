"""The matrix is checked against the specs both ways.

A feature marked supported for a provider must be exercised by at least one of its
spec's examples (a request example whose request activates the feature), and a
spec must exist for every provider with a supported cell. Returns problems as text.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .switchboard import Switchboard


def exercised(sb: "Switchboard", provider: str) -> set[str]:
    """Features some request example of the provider's spec uses (refusals excluded)."""
    used: set[str] = set()
    examples = [ex for name in sb.spec_names(provider) for ex in sb.files.raw(name).get("examples", [])]
    for example in examples:
        request = example.get("request")
        if request and "refusal" not in example:
            body = {"model": example.get("model", "m"), **request}
            used.update(sb.matrix.active_features(body))
    return used


def check_links(sb: "Switchboard") -> list[str]:
    problems = []
    for provider in sb.providers:
        row = sb.matrix.resolve(provider, "")
        states = {fid: cell.state for fid, cell in row.features.items()}
        for rule in sb.matrix.rows[provider].gated:
            for fid, cell in rule.features.items():
                if cell.state == "supported" and not rule.when:
                    states[fid] = "supported"
        supported = {fid for fid, state in states.items() if state == "supported"}
        if supported and provider not in sb.dialects:
            problems.append(f"{provider}: marked supported for {sorted(supported)} but has no spec")
            continue
        missing = supported - exercised(sb, provider) if provider in sb.dialects else set()
        for fid in sorted(missing):
            problems.append(f"{provider}: {fid} is marked supported but no example in "
                            f"{', '.join(sb.spec_names(provider))} exercises it")
    return problems
