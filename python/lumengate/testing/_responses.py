"""Deterministic default answers of the fake Gemini server."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MODELS",
    "count_tokens",
    "embedding",
    "generate_response",
    "model_resource",
    "prompt_text",
    "reply_text",
]

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)

_CHAT_METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
_EMBED_METHODS = ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"]


def _chat(name: str, display: str, version: str, thinking: bool) -> dict[str, Any]:
    model: dict[str, Any] = {
        "name": f"models/{name}",
        "version": version,
        "displayName": display,
        "description": f"{display} (served by lumengate's fake Gemini)",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": list(_CHAT_METHODS),
        "temperature": 1.0,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2.0,
    }
    if thinking:
        model["thinking"] = True
    return model


def _embedder(name: str, display: str, version: str, limit: int) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": version,
        "displayName": display,
        "description": f"{display} (served by lumengate's fake Gemini)",
        "inputTokenLimit": limit,
        "outputTokenLimit": 1,
        "supportedGenerationMethods": list(_EMBED_METHODS),
    }


#: The fake's model catalogue, in ``GET /v1beta/models`` order.
MODELS: tuple[dict[str, Any], ...] = (
    _chat("gemini-2.0-flash", "Gemini 2.0 Flash", "2.0", False),
    _chat("gemini-2.0-flash-lite", "Gemini 2.0 Flash-Lite", "2.0", False),
    _chat("gemini-2.5-flash", "Gemini 2.5 Flash", "001", True),
    _chat("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", "001", True),
    _chat("gemini-2.5-pro", "Gemini 2.5 Pro", "2.5", True),
    _embedder("text-embedding-004", "Text Embedding 004", "004", 2048),
    _embedder("gemini-embedding-001", "Gemini Embedding 001", "001", 2048),
)

_DEFAULT_DIMENSIONS = {"gemini-embedding-001": 3072}


def model_resource(model: str) -> dict[str, Any] | None:
    """The catalogue entry for ``model`` (with or without ``models/``), or ``None``."""
    name = model if model.startswith("models/") else f"models/{model}"
    for entry in MODELS:
        if entry["name"] == name:
            return dict(entry)
    return None


def count_tokens(text: str) -> int:
    """Tokens of ``text`` as the fake counts them: words and single punctuation marks.

    >>> count_tokens("Hello, world!")
    4
    """
    return len(_TOKEN.findall(text))


def _parts_text(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, Mapping):
        return []
    texts = []
    for part in content.get("parts") or []:
        if isinstance(part, Mapping) and isinstance(part.get("text"), str):
            texts.append(part["text"])
    return texts


def prompt_text(body: Any) -> str:
    """All text of a request's ``systemInstruction`` and ``contents``, joined by newlines."""
    if not isinstance(body, Mapping):
        return ""
    texts = _parts_text(_get(body, "systemInstruction", "system_instruction"))
    contents = body.get("contents")
    if isinstance(contents, Mapping):
        contents = [contents]
    for content in contents or []:
        texts.extend(_parts_text(content))
    if "generateContentRequest" in body:
        return prompt_text(body["generateContentRequest"])
    return "\n".join(texts)


def _last_user_text(body: Mapping[str, Any]) -> str:
    contents = body.get("contents")
    if isinstance(contents, Mapping):
        contents = [contents]
    for content in reversed(contents or []):
        if isinstance(content, Mapping) and content.get("role", "user") == "user":
            return " ".join(_parts_text(content))
    return ""


def _get(mapping: Mapping[str, Any], camel: str, snake: str) -> Any:
    """A field by its JSON name or its proto name (the API accepts both)."""
    return mapping[camel] if camel in mapping else mapping.get(snake)


def _config(body: Any) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        config = _get(body, "generationConfig", "generation_config")
        if isinstance(config, Mapping):
            return config
    return {}


def reply_text(body: Any) -> tuple[str, str]:
    """The default answer text and finish reason: an echo of the last user turn.

    ``maxOutputTokens`` cuts the echo to that many tokens (finish reason ``MAX_TOKENS``).

    >>> reply_text({"contents": [{"role": "user", "parts": [{"text": "hi there"}]}]})
    ('Echo: hi there', 'STOP')
    """
    text = "Echo: " + (_last_user_text(body) if isinstance(body, Mapping) else "")
    limit = _get(_config(body), "maxOutputTokens", "max_output_tokens")
    if isinstance(limit, int) and limit >= 0:
        tokens = list(_TOKEN.finditer(text))
        if len(tokens) > limit:
            end = tokens[limit - 1].end() if limit > 0 else 0
            return text[:end], "MAX_TOKENS"
    return text, "STOP"


def thoughts_tokens(body: Any) -> int:
    """Thinking tokens the fake bills when ``thinkingConfig`` asks for thinking, else 0."""
    thinking = _get(_config(body), "thinkingConfig", "thinking_config")
    if not isinstance(thinking, Mapping):
        return 0
    budget = _get(thinking, "thinkingBudget", "thinking_budget")
    if budget is None:
        budget = -1
    if budget == 0:
        return 0
    if isinstance(budget, int) and budget > 0:
        return min(budget, 16)
    return 16


def response_id(body_bytes: bytes, serial: int) -> str:
    """A response id: deterministic in the request body and its serial number."""
    digest = hashlib.sha256(body_bytes + serial.to_bytes(8, "big")).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode("ascii")


def model_version(model: str) -> str:
    """The ``modelVersion`` reported for ``model``."""
    entry = model_resource(model)
    if entry is None:
        return model
    return f"{model}-{entry['version']}" if entry["version"][0].isdigit() else model


def generate_response(
    *,
    text: str,
    finish_reason: str | None,
    prompt_tokens: int,
    candidates_tokens: int,
    thoughts: int,
    model: str,
    rid: str,
) -> dict[str, Any]:
    """A GenerateContentResponse with one candidate saying ``text``."""
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    candidate["index"] = 0
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": candidates_tokens,
        "totalTokenCount": prompt_tokens + candidates_tokens + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model_version(model),
        "responseId": rid,
    }


def embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector of ``dimensions`` floats derived from SHA-256 of ``text``.

    >>> v = embedding("hello", 8)
    >>> len(v), round(sum(x * x for x in v), 6), v == embedding("hello", 8)
    (8, 1.0, True)
    """
    raw = hashlib.shake_256(text.encode("utf-8")).digest(4 * dimensions)
    values = [(n / 2**31) - 1.0 for n in struct.unpack(f">{dimensions}I", raw)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def default_dimensions(model: str) -> int:
    """The embedding size of ``model`` when the request gives no ``outputDimensionality``."""
    return _DEFAULT_DIMENSIONS.get(model.removeprefix("models/"), 768)
