"""Azure OpenAI content-filter annotations: prompt_filter_results, per-choice content_filter_results,
the stream's prompt-annotation and annotation-only chunks, and the 400 filtered-prompt error."""
from __future__ import annotations

from typing import Any

_SEVERITY = ("hate", "self_harm", "sexual", "violence")


def _severity(filtered_category: str | None = None) -> dict[str, Any]:
    return {c: {"filtered": c == filtered_category, "severity": "medium" if c == filtered_category else "safe"}
            for c in _SEVERITY}


def prompt_filter_results() -> list[dict[str, Any]]:
    results = dict(_severity(), jailbreak={"filtered": False, "detected": False})
    return [{"prompt_index": 0, "content_filter_results": results}]


def choice_results(filtered: bool = False) -> dict[str, Any]:
    """Output annotations; a filtered output is flagged as medium-severity violence."""
    results = _severity("violence" if filtered else None)
    results["protected_material_code"] = {"filtered": False, "detected": False}
    results["protected_material_text"] = {"filtered": False, "detected": False}
    return results


def prompt_annotation_chunk() -> dict[str, Any]:
    """The first event of every Azure stream: empty id/object/model and no choices."""
    return {"id": "", "object": "", "created": 0, "model": "", "prompt_filter_results": prompt_filter_results(),
            "choices": [], "usage": None}


def annotation_chunk(index: int, finish: str | None, filtered: bool, offset: int) -> dict[str, Any]:
    """An annotation-only chunk (asynchronous filter mode): a choice with results but no `delta`."""
    return {"id": "", "object": "", "created": 0, "model": "", "usage": None,
            "choices": [{"index": index, "finish_reason": finish, "content_filter_results": choice_results(filtered),
                         "content_filter_offsets": {"check_offset": 0, "start_offset": 0, "end_offset": offset}}]}


def prompt_filtered_error() -> dict[str, Any]:
    """The HTTP 400 body for a prompt the filter blocked (fault `content-filter`)."""
    return {"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                   "policy. Please modify your prompt and retry. To learn more about our content filtering "
                   "policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        "type": None, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": dict(
            _severity("violence"), jailbreak={"filtered": False, "detected": False})}}}
