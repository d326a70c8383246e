"""The gateway's own OpenAPI document (served at /openapi.json; the fuzz tests read it)."""
from __future__ import annotations

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message", "type", "param", "code"],
    "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                   "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}}
_MESSAGE = {"type": "object", "required": ["role"], "properties": {
    "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
    "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}, {"type": "null"}]},
    "name": {"type": "string"}, "tool_call_id": {"type": "string"},
    "tool_calls": {"type": "array", "items": {"type": "object"}},
    "thinking_blocks": {"type": "array", "items": {"type": "object"}}}}
_REQUEST = {"type": "object", "required": ["model", "messages"], "properties": {
    "model": {"type": "string", "description": "account/model"},
    "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
    "stream": {"type": "boolean"}, "stream_options": {"type": "object"},
    "temperature": {"type": "number"}, "top_p": {"type": "number"}, "max_tokens": {"type": "integer"},
    "max_completion_tokens": {"type": "integer"}, "n": {"type": "integer"},
    "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "tools": {"type": "array", "items": {"type": "object"}},
    "tool_choice": {"oneOf": [{"type": "string"}, {"type": "object"}]},
    "response_format": {"type": "object"}, "reasoning_effort": {"type": "string"},
    "seed": {"type": "integer"}, "user": {"type": "string"}}}
_ERRORS = {str(code): {"description": text, "content": {"application/json": {"schema": _ERROR}}}
           for code, text in [(400, "bad request or unsupported feature"), (401, "missing or invalid key"),
                              (404, "unknown account or model"), (413, "body too large"),
                              (429, "rate limited upstream"), (502, "provider error"), (504, "provider timeout")]}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Switchboard gateway", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/v1/chat/completions": {"post": {
            "operationId": "createChatCompletion",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _REQUEST}}},
            "responses": {"200": {"description": "chat.completion, or an SSE stream of chat.completion.chunk"},
                          **_ERRORS}}},
        "/v1/models": {"get": {"operationId": "listModels", "responses": {"200": {"description": "models"}}}},
        "/health": {"get": {"operationId": "health", "security": [], "responses": {"200": {"description": "ok"}}}},
        "/ready": {"get": {"operationId": "ready", "security": [], "responses": {
            "200": {"description": "ready"}, "503": {"description": "starting or draining"}}}},
        "/metrics": {"get": {"operationId": "metrics", "security": [], "responses": {
            "200": {"description": "Prometheus text format"}}}},
    },
}
