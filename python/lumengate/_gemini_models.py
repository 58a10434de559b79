"""Requests and responses of the Gemini Developer API (v1beta) as bytes in, typed values out.

Part of :mod:`lumengate.gemini`. Every function here is pure: ``build_*`` turns a model name,
contents and a config into the exact :class:`WireRequest` google-genai sends for the same
arguments, and ``parse_*`` turns the bytes a transport received into frozen dataclasses or a
typed :class:`~lumengate.errors.GeminiError`. No I/O happens in this module::

    >>> from lumengate import gemini
    >>> request = gemini.build_generate_content(
    ...     "gemini-2.5-flash", "hello", {"temperature": 0.2}, api_key="test-key")
    >>> request.method, request.path
    ('POST', '/v1beta/models/gemini-2.5-flash:generateContent')
    >>> request.body
    b'{"contents":[{"parts":[{"text":"hello"}],"role":"user"}],"generationConfig":{"temperature":0.2}}'
    >>> request
    WireRequest(method='POST', path='/v1beta/models/gemini-2.5-flash:generateContent', ...)
    >>> reply = b'{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]}'
    >>> gemini.parse_generate_content(reply).text
    'Hi'
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import functools
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from lumengate.errors import (
    ClientError,
    GeminiError,
    IncompleteStream,
    InvalidArgument,
    RateLimited,
    ResponseParseError,
    ServerError,
    Timeout,
)

__all__ = [
    "API_VERSION",
    "ApiKey",
    "BatchEmbedContentsResponse",
    "Candidate",
    "CountTokensResponse",
    "EmbedContentResponse",
    "FunctionCall",
    "FunctionResponse",
    "GenerateContentResponse",
    "InlineData",
    "ListModelsPage",
    "Model",
    "ModelPrice",
    "Part",
    "PriceTable",
    "PromptFeedback",
    "SafetyRating",
    "ServerSentEvent",
    "SseParser",
    "StreamDecoder",
    "UsageMetadata",
    "WireRequest",
    "build_batch_embed_contents",
    "build_count_tokens",
    "build_embed_content",
    "build_generate_content",
    "build_list_models",
    "error_from_response",
    "is_retryable",
    "parse_batch_embed_contents",
    "parse_count_tokens",
    "parse_embed_content",
    "parse_generate_content",
    "parse_list_models",
    "parse_retry_delay",
    "parse_stream_event",
    "resolve_api_key",
]

logger = logging.getLogger(__name__)

API_VERSION = "v1beta"
"""The REST API version every path starts with."""

_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Google API keys look like this; any that a server echoes back is masked in error messages.
_KEY_PATTERN = re.compile(r"AIza[0-9A-Za-z_\-]{35}")


# --- the API key ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiKey:
    """An API key whose repr and str never show it; :meth:`reveal` returns the secret.

    >>> key = ApiKey("AIza-secret")
    >>> key, str(key)
    (ApiKey('***'), '***')
    >>> key.reveal()
    'AIza-secret'
    """

    _secret: str = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self._secret, str) or not self._secret:
            raise InvalidArgument("api_key: must be a non-empty string", field="api_key")

    def reveal(self) -> str:
        """The key itself, for the ``x-goog-api-key`` header only."""
        return self._secret

    def __repr__(self) -> str:
        return "ApiKey('***')"

    def __str__(self) -> str:
        return "***"


def resolve_api_key(api_key: ApiKey | str | None = None) -> ApiKey:
    """The key to send: the argument, else ``GOOGLE_API_KEY``, else ``GEMINI_API_KEY``.

    This is google-genai's precedence: when both variables are set, ``GOOGLE_API_KEY`` wins and
    a warning is logged (naming the variables, never their values). An empty variable counts as
    unset. No key anywhere raises :class:`~lumengate.errors.InvalidArgument`.
    """
    if isinstance(api_key, ApiKey):
        return api_key
    if api_key:
        return ApiKey(api_key)
    google = os.environ.get("GOOGLE_API_KEY")
    gemini = os.environ.get("GEMINI_API_KEY")
    if google and gemini:
        logger.warning("Both GOOGLE_API_KEY and GEMINI_API_KEY are set. Using GOOGLE_API_KEY.")
    chosen = google or gemini
    if not chosen:
        raise InvalidArgument(
            "api_key: no API key; pass api_key=... or set GOOGLE_API_KEY or GEMINI_API_KEY",
            field="api_key",
        )
    return ApiKey(chosen)


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request exactly as it goes on the wire (the base URL is the transport's).

    ``query`` and ``headers`` are ordered ``(name, value)`` pairs; header names are lower case.
    The repr masks the API key.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: bytes = field(repr=False)

    def __repr__(self) -> str:
        query = f", query={self.query!r}" if self.query else ""
        return f"WireRequest(method={self.method!r}, path={self.path!r}{query}, ...)"

    def target(self) -> str:
        """The request target: path plus the encoded query string."""
        if not self.query:
            return self.path
        return f"{self.path}?{urlencode(self.query)}"

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None


@functools.cache
def _user_agent() -> str:
    from lumengate import __version__

    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"lumengate/{__version__} gl-python/{python}"


def _headers(api_key: ApiKey | str | None) -> tuple[tuple[str, str], ...]:
    agent = _user_agent()
    return (
        ("content-type", "application/json"),
        ("x-goog-api-key", resolve_api_key(api_key).reveal()),
        ("user-agent", agent),
        ("x-goog-api-client", agent),
    )


def _model_name(model: str) -> str:
    if not isinstance(model, str) or not model.strip():
        raise InvalidArgument(
            f"model: {model!r} is not a model name like 'gemini-2.5-flash'", field="model"
        )
    if re.search(r"[\s?#]", model):
        raise InvalidArgument(
            f"model: {model!r} contains whitespace, '?' or '#'; expected a name like "
            "'gemini-2.5-flash' or 'models/gemini-2.5-flash'",
            field="model",
        )
    if model.startswith(("models/", "tunedModels/")):
        return model
    return f"models/{model}"


def _json_bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _fields(
    where: str, value: Any, allowed: Iterable[str], *, plural: str = "keys"
) -> dict[str, Any]:
    """``value`` as a dict with snake_case keys, each one of ``allowed``."""
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{where}: expected a dict, got {type(value).__name__}", field=where)
    allowed = tuple(allowed)
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _snake(str(key))
        if name not in allowed:
            raise InvalidArgument(
                f"{where}: unknown key {key!r}; allowed {plural}: {', '.join(allowed)}",
                field=f"{where}.{key}",
            )
        out[name] = item
    return out


def _base64(where: str, data: Any) -> str:
    """Bytes as google-genai sends them: URL-safe base64 with padding."""
    if isinstance(data, str):
        try:
            data = base64.b64decode(data.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidArgument(
                f"{where}: a str must be base64; pass bytes for raw data", field=where
            ) from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidArgument(f"{where}: expected bytes, got {type(data).__name__}", field=where)
    return base64.urlsafe_b64encode(bytes(data)).decode()


_PART_KEYS = (
    "text",
    "thought",
    "thought_signature",
    "inline_data",
    "file_data",
    "function_call",
    "function_response",
)


def _part(where: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"text": value}
    part = _fields(where, value, _PART_KEYS)
    out: dict[str, Any] = {}
    for key, item in part.items():
        if key == "inline_data":
            blob = _fields(f"{where}.inline_data", item, ("mime_type", "data"))
            out["inlineData"] = {
                "mimeType": blob["mime_type"],
                "data": _base64(f"{where}.inline_data.data", blob.get("data", b"")),
            }
        elif key == "file_data":
            ref = _fields(f"{where}.file_data", item, ("mime_type", "file_uri"))
            out["fileData"] = {_camel(k): v for k, v in ref.items()}
        elif key == "function_call":
            out["functionCall"] = _fields(f"{where}.function_call", item, ("id", "name", "args"))
        elif key == "function_response":
            out["functionResponse"] = _fields(
                f"{where}.function_response", item, ("id", "name", "response")
            )
        elif key == "thought_signature":
            out["thoughtSignature"] = _base64(f"{where}.thought_signature", item)
        else:
            out[key] = item
    return out


def _content(where: str, value: Any, *, default_role: str | None) -> dict[str, Any]:
    """A Content dict (``role``/``parts``); strings and lists of strings become a user turn."""
    if isinstance(value, str):
        return {"parts": [{"text": value}], "role": "user"}
    if isinstance(value, Mapping) and not {"role", "parts"} & set(value):
        return {"parts": [_part(where, value)], "role": default_role or "user"}
    if isinstance(value, Mapping):
        content = _fields(where, value, ("role", "parts"))
        parts = content.get("parts") or []
        if isinstance(parts, (str, Mapping)) or not isinstance(parts, Sequence):
            raise InvalidArgument(f"{where}.parts: expected a list of parts", field=where)
        out: dict[str, Any] = {
            "parts": [_part(f"{where}.parts[{i}]", p) for i, p in enumerate(parts)]
        }
        if content.get("role") is not None:
            out["role"] = content["role"]
        return out
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return {"parts": [{"text": item} for item in value], "role": "user"}
    raise InvalidArgument(
        f"{where}: expected a str, a list of str or a content dict with 'role' and 'parts', "
        f"got {type(value).__name__}",
        field=where,
    )


def _contents(value: Any) -> list[dict[str, Any]]:
    """google-genai's grouping: consecutive strings/parts form one turn; function calls are
    the model's turn, everything else the user's; role/parts dicts stay turns of their own."""
    if isinstance(value, (str, Mapping)):
        value = [value]
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Sequence) or not value:
        raise InvalidArgument(
            "contents: expected a non-empty str, list of str, part dicts or content dicts",
            field="contents",
        )
    turns: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    pending_role = "user"

    def flush() -> None:
        if pending:
            turns.append({"parts": list(pending), "role": pending_role})
            pending.clear()

    for index, item in enumerate(value):
        where = f"contents[{index}]"
        if isinstance(item, Mapping) and {"role", "parts"} & set(item):
            flush()
            turns.append(_content(where, item, default_role=None))
            continue
        if not isinstance(item, (str, Mapping)):
            raise InvalidArgument(
                f"{where}: expected a str, a part dict or a content dict, "
                f"got {type(item).__name__}",
                field=where,
            )
        part = _part(where, item)
        role = "model" if "functionCall" in part else "user"
        if pending and role != pending_role:
            flush()
        pending_role = role
        pending.append(part)
    flush()
    return turns


_SCHEMA_KEYS = (
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "properties",
    "required",
    "property_ordering",
    "any_of",
    "min_items",
    "max_items",
    "minimum",
    "maximum",
    "min_length",
    "max_length",
    "min_properties",
    "max_properties",
    "pattern",
    "default",
    "example",
)


def _schema(where: str, value: Any) -> dict[str, Any]:
    """An OpenAPI-subset schema as google-genai sends it: snake_case keys, upper-case types."""
    schema = _fields(where, value, _SCHEMA_KEYS)
    out: dict[str, Any] = {}
    for key, item in schema.items():
        if item is None:
            continue
        if key == "type":
            if not isinstance(item, str):
                raise InvalidArgument(f"{where}.type: expected a str like 'OBJECT'", field=where)
            out[key] = item.upper()
        elif key == "properties":
            out[key] = {
                name: _schema(f"{where}.properties.{name}", sub) for name, sub in item.items()
            }
        elif key == "items":
            out[key] = _schema(f"{where}.items", item)
        elif key == "any_of":
            out[key] = [_schema(f"{where}.any_of[{i}]", sub) for i, sub in enumerate(item)]
        else:
            out[key] = item
    return out


def _float(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{where}: expected a number, got {value!r}", field=where)
    return float(value)


def _int(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise InvalidArgument(f"{where}: expected an integer, got {value!r}", field=where)
    return int(value)


def _strings(where: str, value: Any) -> list[str]:
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise InvalidArgument(f"{where}: expected a list of str", field=where)
    return list(value)


def _thinking(where: str, value: Any) -> dict[str, Any]:
    # google-genai sends thinkingConfig with snake_case keys; the API accepts both spellings.
    fields = _fields(where, value, ("include_thoughts", "thinking_budget", "thinking_level"))
    return {key: item for key, item in fields.items() if item is not None}


def _safety(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, Mapping) or not isinstance(value, Sequence):
        raise InvalidArgument("safety_settings: expected a list of dicts", field="safety_settings")
    return [
        _fields(f"safety_settings[{i}]", item, ("category", "threshold"))
        for i, item in enumerate(value)
    ]


_GENERATION_FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "temperature": _float,
    "top_p": _float,
    "top_k": _float,
    "candidate_count": _int,
    "max_output_tokens": _int,
    "stop_sequences": _strings,
    "response_mime_type": lambda where, value: str(value),
    "response_schema": _schema,
    "thinking_config": _thinking,
    "seed": _int,
    "presence_penalty": _float,
    "frequency_penalty": _float,
}
_GENERATE_CONFIG_KEYS = (*_GENERATION_FIELDS, "system_instruction", "safety_settings")
_EMBED_CONFIG_KEYS = ("task_type", "title", "output_dimensionality")


def _generate_body(contents: Any, config: Mapping[str, Any] | None) -> bytes:
    body: dict[str, Any] = {"contents": _contents(contents)}
    if config:
        fields = _fields("config", config, _GENERATE_CONFIG_KEYS)
        generation: dict[str, Any] = {}
        for key, value in fields.items():
            if value is None:
                continue
            if key == "system_instruction":
                body["systemInstruction"] = _content(
                    "config.system_instruction", value, default_role="user"
                )
            elif key == "safety_settings":
                body["safetySettings"] = _safety(value)
            else:
                generation[_camel(key)] = _GENERATION_FIELDS[key](f"config.{key}", value)
        # google-genai sends generationConfig (even empty) whenever a config is given.
        body["generationConfig"] = generation
    return _json_bytes(body)


def build_generate_content(
    model: str,
    contents: Any,
    config: Mapping[str, Any] | None = None,
    *,
    stream: bool = False,
    api_key: ApiKey | str | None = None,
) -> WireRequest:
    """``POST /v1beta/models/{model}:generateContent`` (``:streamGenerateContent?alt=sse``).

    ``contents`` is a str, a list of str, part dicts (``text``, ``inline_data`` with bytes,
    ``file_data``, ``function_call``, ``function_response``, ``thought``) or role/parts
    content dicts, grouped into turns as google-genai groups them. ``config`` keys (snake_case
    or camelCase): temperature, top_p, top_k, candidate_count, max_output_tokens,
    stop_sequences, response_mime_type, response_schema, thinking_config, seed,
    presence_penalty, frequency_penalty, system_instruction, safety_settings; any other key
    raises :class:`~lumengate.errors.InvalidArgument` (a ``ValueError``) naming it.
    """
    name = _model_name(model)
    body = _generate_body(contents, config)
    if stream:
        return WireRequest(
            "POST",
            f"/{API_VERSION}/{name}:streamGenerateContent",
            (("alt", "sse"),),
            _headers(api_key),
            body,
        )
    return WireRequest(
        "POST", f"/{API_VERSION}/{name}:generateContent", (), _headers(api_key), body
    )


def build_count_tokens(
    model: str, contents: Any, *, api_key: ApiKey | str | None = None
) -> WireRequest:
    """``POST /v1beta/models/{model}:countTokens`` for ``contents`` (as in generate_content)."""
    name = _model_name(model)
    body = _json_bytes({"contents": _contents(contents)})
    return WireRequest("POST", f"/{API_VERSION}/{name}:countTokens", (), _headers(api_key), body)


def _embed_request(where: str, content: Any, config: Mapping[str, Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {"content": _content(where, content, default_role=None)}
    for key, value in _fields("config", config or {}, _EMBED_CONFIG_KEYS).items():
        if value is not None:
            request[_camel(key)] = value
    return request


def build_embed_content(
    model: str,
    content: Any,
    config: Mapping[str, Any] | None = None,
    *,
    api_key: ApiKey | str | None = None,
) -> WireRequest:
    """``POST /v1beta/models/{model}:embedContent``: one content (a str, a list of str as one
    content's parts, or a content dict). ``config``: task_type, title, output_dimensionality.

    google-genai's ``embed_content`` always calls ``:batchEmbedContents``; this body equals
    one entry of its ``requests`` list without the repeated ``model`` (see
    :func:`build_batch_embed_contents` for the SDK's exact request).
    """
    name = _model_name(model)
    body = _json_bytes(_embed_request("content", content, config))
    return WireRequest("POST", f"/{API_VERSION}/{name}:embedContent", (), _headers(api_key), body)


def build_batch_embed_contents(
    model: str,
    contents: Any,
    config: Mapping[str, Any] | None = None,
    *,
    api_key: ApiKey | str | None = None,
) -> WireRequest:
    """``POST /v1beta/models/{model}:batchEmbedContents``, equal to google-genai's
    ``embed_content(model, contents, config)``: each str or content dict of ``contents`` is
    embedded on its own, all with the same ``config`` (task_type, title, output_dimensionality).
    """
    name = _model_name(model)
    items = [contents] if isinstance(contents, (str, Mapping)) else contents
    if not isinstance(items, Sequence) or not items:
        raise InvalidArgument(
            "contents: expected a non-empty str, list of str or content dicts", field="contents"
        )
    requests = []
    for index, item in enumerate(items):
        request = _embed_request(f"contents[{index}]", item, config)
        request["model"] = name
        requests.append(request)
    body = _json_bytes({"requests": requests})
    return WireRequest(
        "POST", f"/{API_VERSION}/{name}:batchEmbedContents", (), _headers(api_key), body
    )


def build_list_models(
    page_size: int | None = None,
    page_token: str | None = None,
    *,
    api_key: ApiKey | str | None = None,
) -> WireRequest:
    """``GET /v1beta/models`` with ``pageSize`` / ``pageToken`` when given."""
    query: list[tuple[str, str]] = []
    if page_size is not None:
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InvalidArgument(
                f"page_size: expected a positive int, got {page_size!r}", field="page_size"
            )
        query.append(("pageSize", str(page_size)))
    if page_token:
        query.append(("pageToken", page_token))
    return WireRequest("GET", f"/{API_VERSION}/models", tuple(query), _headers(api_key), b"")


# --- responses --------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _load(body: bytes | str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ResponseParseError(f"{what}: the body is not JSON ({error})") from None
    if not isinstance(document, dict):
        raise ResponseParseError(f"{what}: expected a JSON object, got {type(document).__name__}")
    if isinstance(document.get("error"), dict):
        status = _opt_int(document["error"].get("code")) or 0
        raise error_from_response(status, {}, body)
    return document


@dataclass(frozen=True)
class InlineData:
    """Bytes sent inline (``inlineData``), decoded from base64."""

    mime_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class FunctionCall:
    """A call the model asks the caller to make."""

    name: str
    args: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class FunctionResponse:
    """The result of a function call, sent back to the model."""

    name: str
    response: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Part:
    """One part of a content; ``thought`` parts are the model's reasoning, not its answer."""

    text: str | None = None
    thought: bool = False
    inline_data: InlineData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> Part:
        """A Part from its REST JSON (unknown fields stay in ``raw``)."""
        raw = _dict(raw)
        blob = raw.get("inlineData")
        inline = None
        if isinstance(blob, dict):
            data = blob.get("data", "")
            try:
                decoded = base64.b64decode(str(data).replace("-", "+").replace("_", "/"))
            except (binascii.Error, ValueError):
                raise ResponseParseError("inlineData.data: not base64") from None
            inline = InlineData(str(blob.get("mimeType", "")), decoded)
        call = raw.get("functionCall")
        response = raw.get("functionResponse")
        text = raw.get("text")
        return cls(
            text=text if isinstance(text, str) else None,
            thought=raw.get("thought") is True,
            inline_data=inline,
            function_call=FunctionCall(
                str(call.get("name", "")), _dict(call.get("args")), call.get("id")
            )
            if isinstance(call, dict)
            else None,
            function_response=FunctionResponse(
                str(response.get("name", "")), _dict(response.get("response")), response.get("id")
            )
            if isinstance(response, dict)
            else None,
            raw=raw,
        )


@dataclass(frozen=True)
class SafetyRating:
    """How likely a text falls into one harm category."""

    category: str
    probability: str | None = None
    blocked: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> SafetyRating:
        """A SafetyRating from its REST JSON."""
        raw = _dict(raw)
        return cls(
            str(raw.get("category", "")),
            raw.get("probability"),
            raw.get("blocked") is True,
            raw,
        )


@dataclass(frozen=True)
class Candidate:
    """One generated answer."""

    parts: tuple[Part, ...]
    role: str | None = None
    finish_reason: str | None = None
    safety_ratings: tuple[SafetyRating, ...] = ()
    index: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> Candidate:
        """A Candidate from its REST JSON."""
        raw = _dict(raw)
        content = _dict(raw.get("content"))
        return cls(
            tuple(Part.from_json(p) for p in _list(content.get("parts"))),
            content.get("role"),
            raw.get("finishReason"),
            tuple(SafetyRating.from_json(r) for r in _list(raw.get("safetyRatings"))),
            _opt_int(raw.get("index")),
            raw,
        )

    @property
    def text(self) -> str | None:
        """The text parts joined, thoughts skipped; None when there is no text part."""
        texts = [part.text for part in self.parts if part.text is not None and not part.thought]
        return "".join(texts) if texts else None


@dataclass(frozen=True)
class UsageMetadata:
    """Token counts of one call; thoughts are billed as output."""

    prompt_token_count: int = 0
    candidates_token_count: int = 0
    thoughts_token_count: int = 0
    cached_content_token_count: int = 0
    total_token_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> UsageMetadata:
        """UsageMetadata from its REST JSON (absent counts are 0)."""
        raw = _dict(raw)

        def count(key: str) -> int:
            return _opt_int(raw.get(key)) or 0

        return cls(
            count("promptTokenCount"),
            count("candidatesTokenCount"),
            count("thoughtsTokenCount"),
            count("cachedContentTokenCount"),
            count("totalTokenCount"),
            raw,
        )


@dataclass(frozen=True)
class PromptFeedback:
    """Why the prompt itself was blocked, if it was."""

    block_reason: str | None = None
    safety_ratings: tuple[SafetyRating, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> PromptFeedback:
        """PromptFeedback from its REST JSON."""
        raw = _dict(raw)
        return cls(
            raw.get("blockReason"),
            tuple(SafetyRating.from_json(r) for r in _list(raw.get("safetyRatings"))),
            raw,
        )


@dataclass(frozen=True)
class GenerateContentResponse:
    """A generateContent reply, or one chunk of a stream (each chunk carries a delta)."""

    candidates: tuple[Candidate, ...] = ()
    usage: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None
    prompt_feedback: PromptFeedback | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> GenerateContentResponse:
        """A response from the parsed REST JSON; unknown fields stay in ``raw``."""
        raw = dict(raw)
        usage = raw.get("usageMetadata")
        feedback = raw.get("promptFeedback")
        return cls(
            tuple(Candidate.from_json(c) for c in _list(raw.get("candidates"))),
            UsageMetadata.from_json(usage) if isinstance(usage, dict) else None,
            raw.get("modelVersion"),
            raw.get("responseId"),
            PromptFeedback.from_json(feedback) if isinstance(feedback, dict) else None,
            raw,
        )

    @property
    def text(self) -> str | None:
        """The first candidate's text parts joined (thoughts skipped), as google-genai's
        ``.text``: None when there is no candidate or no text part."""
        return self.candidates[0].text if self.candidates else None

    @property
    def finish_reason(self) -> str | None:
        """The first candidate's finishReason (``"STOP"``, ``"MAX_TOKENS"``, …)."""
        return self.candidates[0].finish_reason if self.candidates else None

    @property
    def block_reason(self) -> str | None:
        """promptFeedback.blockReason when the prompt was blocked, else None."""
        return self.prompt_feedback.block_reason if self.prompt_feedback else None


@dataclass(frozen=True)
class CountTokensResponse:
    """A countTokens reply."""

    total_tokens: int
    cached_content_token_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class EmbedContentResponse:
    """An embedContent reply: one vector."""

    values: tuple[float, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class BatchEmbedContentsResponse:
    """A batchEmbedContents reply: one vector per request, in order."""

    embeddings: tuple[tuple[float, ...], ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Model:
    """One entry of ``GET /v1beta/models``."""

    name: str
    display_name: str | None = None
    description: str | None = None
    version: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_generation_methods: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ListModelsPage:
    """One page of models; pass ``next_page_token`` to :func:`build_list_models` for more."""

    models: tuple[Model, ...]
    next_page_token: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def parse_generate_content(body: bytes | str) -> GenerateContentResponse:
    """A generateContent reply from its bytes; a JSON ``error`` raises the typed error."""
    return GenerateContentResponse.from_json(_load(body, "generateContent"))


def parse_count_tokens(body: bytes | str) -> CountTokensResponse:
    """A countTokens reply from its bytes."""
    raw = _load(body, "countTokens")
    return CountTokensResponse(
        _opt_int(raw.get("totalTokens")) or 0,
        _opt_int(raw.get("cachedContentTokenCount")) or 0,
        raw,
    )


def _vector(raw: Any, what: str) -> tuple[float, ...]:
    values = _dict(raw).get("values")
    if not isinstance(values, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    ):
        raise ResponseParseError(f"{what}: expected embedding.values, a list of numbers")
    try:
        return tuple(float(v) for v in values)
    except OverflowError:
        raise ResponseParseError(
            f"{what}: embedding.values holds an integer too large for a float"
        ) from None


def parse_embed_content(body: bytes | str) -> EmbedContentResponse:
    """An embedContent reply from its bytes."""
    raw = _load(body, "embedContent")
    return EmbedContentResponse(_vector(raw.get("embedding"), "embedContent"), raw)


def parse_batch_embed_contents(body: bytes | str) -> BatchEmbedContentsResponse:
    """A batchEmbedContents reply from its bytes."""
    raw = _load(body, "batchEmbedContents")
    vectors = tuple(
        _vector(item, f"batchEmbedContents.embeddings[{i}]")
        for i, item in enumerate(_list(raw.get("embeddings")))
    )
    return BatchEmbedContentsResponse(vectors, raw)


def parse_list_models(body: bytes | str) -> ListModelsPage:
    """One page of ``GET /v1beta/models`` from its bytes."""
    raw = _load(body, "models.list")
    models = []
    for item in _list(raw.get("models")):
        item = _dict(item)
        models.append(
            Model(
                str(item.get("name", "")),
                item.get("displayName"),
                item.get("description"),
                item.get("version"),
                _opt_int(item.get("inputTokenLimit")),
                _opt_int(item.get("outputTokenLimit")),
                tuple(str(m) for m in _list(item.get("supportedGenerationMethods"))),
                item,
            )
        )
    return ListModelsPage(tuple(models), raw.get("nextPageToken") or None, raw)


# --- errors -----------------------------------------------------------------------------------


def is_retryable(status: int) -> bool:
    """Whether a request that got HTTP ``status`` may be sent again.

    >>> [s for s in (400, 401, 403, 404, 408, 429, 500, 502, 503, 504) if is_retryable(s)]
    [408, 429, 500, 502, 503, 504]
    """
    return status in _RETRYABLE_STATUSES


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key.lower() == name:
            return value
    return None


def parse_retry_delay(
    details: Sequence[Any] = (),
    retry_after: str | None = None,
    *,
    now: float | None = None,
) -> float | None:
    """Seconds to wait: ``RetryInfo.retryDelay`` (``"1.5s"``) from the error details, else a
    ``Retry-After`` header (seconds or an HTTP date, counted from ``now``), else None.

    >>> parse_retry_delay([{"@type": "type.googleapis.com/google.rpc.RetryInfo",
    ...                     "retryDelay": "1.5s"}])
    1.5
    >>> parse_retry_delay([], "7")
    7.0
    """
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(
            "google.rpc.RetryInfo"
        ):
            delay = detail.get("retryDelay")
            match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)s\s*", str(delay))
            if match:
                return float(match.group(1))
    if retry_after is None:
        return None
    text = retry_after.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds)


def error_from_response(
    status: int,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | str,
) -> GeminiError:
    """The typed error for a failed reply: 429 → RateLimited, 408 → Timeout, other 4xx →
    ClientError, 5xx → ServerError, else GeminiError; ``retryable`` follows
    :func:`is_retryable`. A body that is not Gemini's ``{"error": …}`` JSON still gives an
    error, with the start of the body as its message.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    code, message, grpc_status, details = status, "", "", []
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict):
        code = _opt_int(error.get("code")) or status
        message = str(error.get("message", ""))
        grpc_status = str(error.get("status", ""))
        details = _list(error.get("details"))
    else:
        message = text.strip()[:200] or "(empty body)"
    message = _KEY_PATTERN.sub("***", message)
    delay = parse_retry_delay(details, _header(headers, "retry-after"))
    cls: type[GeminiError]
    if status == 429:
        cls = RateLimited
    elif status == 408:
        cls = Timeout
    elif 400 <= status < 500:
        cls = ClientError
    elif 500 <= status < 600:
        cls = ServerError
    else:
        cls = GeminiError
    label = f"{status} {grpc_status}".strip()
    return cls(
        f"{label}: {message}",
        status=status,
        retryable=is_retryable(status),
        code=code,
        message=message,
        grpc_status=grpc_status,
        details=tuple(details),
        retry_delay=delay,
    )


# --- server-sent events -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its ``data`` lines joined by newlines."""

    data: str
    event: str = "message"
    id: str | None = None


class SseParser:
    """Incremental ``text/event-stream`` parser: feed bytes in any split, get whole events.

    Lines end with ``\\r\\n``, ``\\n`` or ``\\r``; a blank line dispatches the event; ``:``
    lines are comments; several ``data:`` lines are joined with ``\\n``.

    >>> parser = SseParser()
    >>> parser.feed(b'data: {"a": 1}\\r\\n\\r\\nda')
    [ServerSentEvent(data='{"a": 1}', event='message', id=None)]
    >>> parser.feed(b'ta: 2\\n\\n')
    [ServerSentEvent(data='2', event='message', id=None)]
    >>> parser.close()
    []
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._closed = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by ``chunk``."""
        if self._closed:
            raise InvalidArgument("chunk: the parser is closed", field="chunk")
        self._buffer += bytes(chunk)
        events: list[ServerSentEvent] = []
        while True:
            match = re.search(rb"\r\n|\n|\r", self._buffer)
            if match is None:
                break
            # A lone \r at the end may be the first half of \r\n: wait for the next byte.
            if match.group() == b"\r" and match.end() == len(self._buffer):
                break
            line, self._buffer = self._buffer[: match.start()], self._buffer[match.end() :]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream: the event a final ``\\r`` completed, if any; raises IncompleteStream
        if the stream stopped inside an event."""
        self._closed = True
        events: list[ServerSentEvent] = []
        if self._buffer.endswith(b"\r"):
            event = self._line(self._buffer[:-1])
            self._buffer = b""
            if event is not None:
                events.append(event)
        if self._buffer or self._data:
            raise IncompleteStream(
                "the event stream ended inside an event (no blank line after its data)"
            )
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ResponseParseError("the event stream is not UTF-8") from None
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = ServerSentEvent("\n".join(self._data), self._event or "message", self._id)
            self._data, self._event = [], ""
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None


def parse_stream_event(event: ServerSentEvent) -> GenerateContentResponse:
    """One streamGenerateContent chunk; ``{"error": …}`` raises the typed error."""
    return parse_generate_content(event.data)


class StreamDecoder:
    """Bytes of a streamGenerateContent reply in, response chunks out.

    >>> decoder = StreamDecoder()
    >>> chunks = decoder.feed(b'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}\\n\\n')
    >>> [chunk.text for chunk in chunks]
    ['Hi']
    >>> decoder.close()
    []
    """

    def __init__(self) -> None:
        self._parser = SseParser()

    def feed(self, chunk: bytes) -> list[GenerateContentResponse]:
        """The chunks completed by these bytes; a mid-stream error raises."""
        return [parse_stream_event(event) for event in self._parser.feed(chunk)]

    def close(self) -> list[GenerateContentResponse]:
        """End of stream: any chunk still pending; raises IncompleteStream when the last event
        was cut off."""
        return [parse_stream_event(event) for event in self._parser.close()]


# --- cost -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelPrice:
    """US dollars per 1 M tokens; thinking tokens are billed at the output price."""

    input_per_million: float
    output_per_million: float

    def __post_init__(self) -> None:
        for name in ("input_per_million", "output_per_million"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidArgument(f"{name}: expected a number, got {value!r}", field=name)
            if not math.isfinite(value) or value < 0:
                raise InvalidArgument(
                    f"{name}: must be a finite number ≥ 0, got {value!r}", field=name
                )


@dataclass(frozen=True)
class PriceTable:
    """Prices per model; no prices are built in, since they change: configure your own.

    A model not in the table raises :class:`~lumengate.errors.InvalidArgument` rather than
    counting as free, so a missing price is noticed. ``"models/"`` prefixes are ignored.

    >>> table = PriceTable.from_dict({"gemini-2.5-flash": {"input": 0.30, "output": 2.50}})
    >>> usage = UsageMetadata(prompt_token_count=1_000_000, candidates_token_count=100_000,
    ...                       thoughts_token_count=100_000)
    >>> round(table.cost(usage, "models/gemini-2.5-flash"), 6)
    0.8
    """

    prices: Mapping[str, ModelPrice]

    @classmethod
    def from_dict(cls, prices: Mapping[str, Mapping[str, float]]) -> PriceTable:
        """From ``{model: {"input": $/1M, "output": $/1M}}``."""
        table: dict[str, ModelPrice] = {}
        for model, entry in prices.items():
            where = f"prices[{model!r}]"
            fields = _fields(where, entry, ("input", "output"))
            missing = {"input", "output"} - set(fields)
            if missing:
                raise InvalidArgument(
                    f"{where}: missing {', '.join(sorted(missing))}; expected input and output",
                    field=where,
                )
            table[_bare_model(model)] = ModelPrice(fields["input"], fields["output"])
        return cls(table)

    @classmethod
    def from_json(cls, source: str | Path) -> PriceTable:
        """From a JSON document (text, or a path to a file) shaped as in :meth:`from_dict`."""
        text = Path(source).read_text() if isinstance(source, Path) else source
        try:
            document = json.loads(text)
        except ValueError as error:
            raise InvalidArgument(f"prices: not JSON ({error})", field="prices") from None
        if not isinstance(document, dict):
            raise InvalidArgument("prices: expected a JSON object", field="prices")
        return cls.from_dict(document)

    def price(self, model: str) -> ModelPrice:
        """The price of ``model``; unknown models raise, listing the known ones."""
        found = self.prices.get(_bare_model(model))
        if found is None:
            known = ", ".join(sorted(self.prices)) or "(none)"
            raise InvalidArgument(
                f"model: no price for {model!r}; priced models: {known}", field="model"
            )
        return found

    def cost(self, usage: UsageMetadata, model: str) -> float:
        """Dollars for one call: prompt tokens at the input price, candidate and thought tokens
        at the output price."""
        price = self.price(model)
        output = usage.candidates_token_count + usage.thoughts_token_count
        return (
            usage.prompt_token_count * price.input_per_million + output * price.output_per_million
        ) / 1_000_000


def _bare_model(model: str) -> str:
    return model.removeprefix("models/")
