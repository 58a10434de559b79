"""The Gemini request/response layer, checked against google-genai itself.

Requests: google-genai's client sends each call to a small capture server on 127.0.0.1 and
our WireRequest for the same arguments must equal what it sent. Responses: the same bytes go
through google-genai's parser and ours.
"""

from __future__ import annotations

import email.utils
import http.server
import json
import logging
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from hypothesis import given
from hypothesis import strategies as st

from lumengate import errors, gemini

MODEL = "gemini-2.5-flash"
KEY = "test-key"


@dataclass
class Captured:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class CaptureServer:
    """Records every request; replies with ``reply`` (status, content type, body)."""

    url: str
    client: genai.Client
    requests: list[Captured] = field(default_factory=list)
    reply: tuple[int, str, bytes] | None = None


def _default_reply(path: str) -> tuple[int, str, bytes]:
    if ":streamGenerateContent" in path:
        chunk = b'data: {"candidates":[{"content":{"parts":[{"text":"ok"}]}}]}\r\n\r\n'
        return 200, "text/event-stream", chunk
    if ":batchEmbedContents" in path:
        return 200, "application/json", b'{"embeddings":[{"values":[0.5]}]}'
    return 200, "application/json", b"{}"


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def _server() -> Iterator[CaptureServer]:
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    state: CaptureServer

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            parts = urlsplit(self.path)
            state.requests.append(
                Captured(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            status, content_type, payload = state.reply or _default_reply(parts.path)
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = False
    server.block_on_close = True
    thread = threading.Thread(target=server.serve_forever, name="capture-server")
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    # One google-genai client for the module: creating one costs about a second.
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=url))
    state = CaptureServer(url, client)
    try:
        yield state
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert set(threading.enumerate()) <= threads_before, "a server thread outlived the tests"
    assert _open_fds() <= fds_before, "a socket outlived the tests"


@pytest.fixture
def capture(_server: CaptureServer) -> Iterator[CaptureServer]:
    _server.reply = None
    yield _server
    _server.reply = None


def sdk_call(server: CaptureServer, call: Callable[[genai.Client], Any]) -> Captured:
    """Run ``call`` with google-genai pointed at ``server``; the one request it sent."""
    before = len(server.requests)
    call(server.client)
    assert len(server.requests) == before + 1
    return server.requests[-1]


def assert_same_wire(ours: gemini.WireRequest, sdk: Captured) -> None:
    assert ours.method == sdk.method
    assert ours.path == sdk.path
    assert list(ours.query) == sdk.query
    assert ours.header("x-goog-api-key") == sdk.headers["x-goog-api-key"]
    assert ours.header("content-type") == sdk.headers["content-type"]
    if sdk.body:
        assert json.loads(ours.body) == json.loads(sdk.body)
    else:
        assert ours.body == b""


PNG = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"
GENERATE_CASES: list[tuple[str, Any, dict[str, Any] | None]] = [
    ("string", "hello", None),
    ("empty-string", "", None),
    ("list-of-strings", ["a", "b", "c"], None),
    ("content-dict", {"role": "user", "parts": [{"text": "x"}]}, None),
    ("content-dict-without-role", {"parts": [{"text": "x"}]}, None),
    ("single-part-dict", {"text": "only a part"}, None),
    ("parts-list", [{"text": "a"}, {"text": "b"}], None),
    (
        "turns-and-strings",
        [{"role": "user", "parts": [{"text": "x"}]}, "y", {"role": "model", "parts": []}, "z"],
        None,
    ),
    (
        "inline-bytes",
        [
            {
                "role": "user",
                "parts": [
                    {"text": "see"},
                    {"inline_data": {"mime_type": "image/png", "data": PNG}},
                ],
            }
        ],
        None,
    ),
    (
        "inline-camel-case",
        [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": b"ab"}}]}],
        None,
    ),
    (
        "file-data",
        [
            {
                "role": "user",
                "parts": [
                    {"file_data": {"mime_type": "application/pdf", "file_uri": "https://x/f"}}
                ],
            }
        ],
        None,
    ),
    (
        "function-call-and-response",
        [
            "what is the weather",
            {"function_call": {"name": "weather", "args": {"city": "Seoul"}}},
            {
                "role": "user",
                "parts": [{"function_response": {"name": "weather", "response": {"t": 3}}}],
            },
        ],
        None,
    ),
    (
        "thought-signature-and-call-id",
        [
            {
                "role": "model",
                "parts": [
                    {"text": "hm", "thought": True, "thought_signature": b"\x01\x02\xfb"},
                    {"function_call": {"name": "f", "args": {}, "id": "call-1"}},
                ],
            },
            {
                "role": "user",
                "parts": [{"function_response": {"name": "f", "response": {}, "id": "call-1"}}],
            },
        ],
        None,
    ),
    ("empty-config", "x", {}),
    ("system-instruction-str", "x", {"system_instruction": "be brief"}),
    ("system-instruction-strings", "x", {"system_instruction": ["be brief", "be kind"]}),
    ("system-instruction-content", "x", {"system_instruction": {"parts": [{"text": "s"}]}}),
    (
        "generation-fields",
        "x",
        {
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 40,
            "max_output_tokens": 64,
            "candidate_count": 2,
            "stop_sequences": ["END", "STOP"],
            "seed": 7,
            "presence_penalty": 0.1,
            "frequency_penalty": 0.3,
        },
    ),
    ("integer-temperature", "x", {"temperature": 1, "stop_sequences": []}),
    ("camel-case-config", "x", {"maxOutputTokens": 10, "topP": 0.5}),
    ("thinking-budget", "x", {"thinking_config": {"thinking_budget": 0, "include_thoughts": True}}),
    ("thinking-camel-case", "x", {"thinking_config": {"thinkingBudget": 128}}),
    ("thinking-level", "x", {"thinking_config": {"thinking_level": "LOW"}}),
    (
        "safety-settings-only",
        "x",
        {"safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}]},
    ),
    (
        "json-response-schema",
        "x",
        {
            "response_mime_type": "application/json",
            "response_schema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "who"},
                    "tags": {"type": "array", "items": {"type": "string"}, "max_items": 3},
                    "age": {"type": "INTEGER", "nullable": True, "minimum": 0},
                    "kind": {"type": "string", "enum": ["a", "b"], "format": "enum"},
                },
                "required": ["name"],
                "propertyOrdering": ["name", "tags", "age", "kind"],
            },
        },
    ),
    (
        "everything",
        [{"role": "user", "parts": [{"text": "q"}]}],
        {
            "system_instruction": "be brief",
            "temperature": 0.0,
            "max_output_tokens": 1,
            "safety_settings": [
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"},
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "OFF"},
            ],
            "thinking_config": {"thinking_budget": 1024},
        },
    ),
]


@pytest.mark.parametrize(
    ("contents", "config"),
    [case[1:] for case in GENERATE_CASES],
    ids=[case[0] for case in GENERATE_CASES],
)
@pytest.mark.parametrize("model", [MODEL, f"models/{MODEL}"], ids=["bare-model", "models-prefix"])
def test_generate_content_wire_equals_google_genai(
    capture: CaptureServer, model: str, contents: Any, config: dict[str, Any] | None
) -> None:
    sdk = sdk_call(
        capture,
        lambda c: c.models.generate_content(model=model, contents=contents, config=config),
    )
    ours = gemini.build_generate_content(model, contents, config, api_key=KEY)
    assert_same_wire(ours, sdk)


@pytest.mark.parametrize(
    ("contents", "config"),
    [GENERATE_CASES[0][1:], GENERATE_CASES[-1][1:]],
    ids=["string", "everything"],
)
def test_stream_generate_content_wire_equals_google_genai(
    capture: CaptureServer, contents: Any, config: dict[str, Any] | None
) -> None:
    sdk = sdk_call(
        capture,
        lambda c: list(
            c.models.generate_content_stream(model=MODEL, contents=contents, config=config)
        ),
    )
    ours = gemini.build_generate_content(MODEL, contents, config, stream=True, api_key=KEY)
    assert ours.query == (("alt", "sse"),)
    assert_same_wire(ours, sdk)


@pytest.mark.parametrize(
    "contents",
    ["hello", ["a", "b"], [{"role": "user", "parts": [{"text": "x"}]}, "y"]],
    ids=["string", "strings", "turns"],
)
def test_count_tokens_wire_equals_google_genai(capture: CaptureServer, contents: Any) -> None:
    sdk = sdk_call(capture, lambda c: c.models.count_tokens(model=MODEL, contents=contents))
    assert_same_wire(gemini.build_count_tokens(MODEL, contents, api_key=KEY), sdk)


EMBED_CASES: list[tuple[str, Any, dict[str, Any] | None]] = [
    ("string", "hello", None),
    ("strings", ["a", "b", "c"], None),
    ("content-dict", {"parts": [{"text": "x"}]}, None),
    (
        "task-and-dimensionality",
        ["a", "b"],
        {"task_type": "RETRIEVAL_QUERY", "output_dimensionality": 8},
    ),
    ("title", "doc", {"task_type": "RETRIEVAL_DOCUMENT", "title": "A title"}),
]


@pytest.mark.parametrize(
    ("contents", "config"),
    [case[1:] for case in EMBED_CASES],
    ids=[case[0] for case in EMBED_CASES],
)
def test_batch_embed_contents_wire_equals_google_genai_embed_content(
    capture: CaptureServer, contents: Any, config: dict[str, Any] | None
) -> None:
    sdk = sdk_call(
        capture,
        lambda c: c.models.embed_content(
            model="text-embedding-004", contents=contents, config=config
        ),
    )
    ours = gemini.build_batch_embed_contents("text-embedding-004", contents, config, api_key=KEY)
    assert_same_wire(ours, sdk)


@pytest.mark.parametrize(
    ("content", "config"),
    [("hello", None), ({"parts": [{"text": "x"}]}, {"task_type": "CLUSTERING"})],
    ids=["string", "content-with-task"],
)
def test_embed_content_body_is_one_sdk_batch_entry(
    capture: CaptureServer, content: Any, config: dict[str, Any] | None
) -> None:
    sdk = sdk_call(
        capture,
        lambda c: c.models.embed_content(
            model="text-embedding-004", contents=content, config=config
        ),
    )
    (entry,) = json.loads(sdk.body)["requests"]
    entry.pop("model")
    ours = gemini.build_embed_content("text-embedding-004", content, config, api_key=KEY)
    assert ours.path == "/v1beta/models/text-embedding-004:embedContent"
    assert json.loads(ours.body) == entry


@pytest.mark.parametrize(
    ("page_size", "page_token"),
    [(None, None), (5, None), (5, "next")],
    ids=["none", "size", "token"],
)
def test_list_models_wire_equals_google_genai(
    capture: CaptureServer, page_size: int | None, page_token: str | None
) -> None:
    config = {"page_size": page_size, "page_token": page_token}
    sdk = sdk_call(capture, lambda c: c.models.list(config=config))
    assert_same_wire(gemini.build_list_models(page_size, page_token, api_key=KEY), sdk)


def test_headers_name_lumengate_and_the_body_is_compact() -> None:
    request = gemini.build_generate_content(MODEL, "hi", api_key=KEY)
    assert request.header(
        "User-Agent",
    ).startswith("lumengate/")  # type: ignore[union-attr]
    assert request.header("x-goog-api-client") == request.header("user-agent")
    assert request.target() == "/v1beta/models/gemini-2.5-flash:generateContent"
    stream = gemini.build_generate_content(MODEL, "hi", stream=True, api_key=KEY)
    assert stream.target() == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


@pytest.mark.parametrize(
    ("config", "field_name"),
    [
        ({"temprature": 0.2}, "config.temprature"),
        ({"tools": []}, "config.tools"),
        ({"thinking_config": {"budget": 3}}, "config.thinking_config.budget"),
        (
            {"safety_settings": [{"category": "X", "threshold": "Y", "method": "SEVERITY"}]},
            "safety_settings[0].method",
        ),
        (
            {"response_schema": {"type": "object", "additionalProperties": False}},
            "config.response_schema.additionalProperties",
        ),
    ],
    ids=["typo", "unsupported", "thinking", "safety-method", "schema-key"],
)
def test_unknown_config_keys_are_named_with_the_allowed_ones(
    config: dict[str, Any], field_name: str
) -> None:
    with pytest.raises(ValueError, match="unknown key") as caught:
        gemini.build_generate_content(MODEL, "x", config, api_key=KEY)
    assert isinstance(caught.value, errors.InvalidArgument)
    assert caught.value.field == field_name
    assert "allowed keys:" in str(caught.value)
    if field_name in ("config.temprature", "config.tools"):
        assert "temperature" in str(caught.value) and "system_instruction" in str(caught.value)


@pytest.mark.parametrize(
    ("model", "contents"),
    [("", "x"), ("gemini 2.5", "x"), ("a?b", "x"), (MODEL, []), (MODEL, 3), (MODEL, b"x")],
    ids=["empty-model", "space", "query", "no-contents", "number", "bytes"],
)
def test_bad_model_or_contents_raise_value_error(model: str, contents: Any) -> None:
    with pytest.raises(ValueError, match=r"^(model|contents)"):
        gemini.build_generate_content(model, contents, api_key=KEY)


# --- API key ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("google", "gemini_key", "expected", "warns"),
    [
        ("g-key", None, "g-key", False),
        (None, "m-key", "m-key", False),
        ("g-key", "m-key", "g-key", True),
        ("", "m-key", "m-key", False),
    ],
    ids=["google-only", "gemini-only", "both", "empty-google"],
)
def test_api_key_environment_precedence_matches_google_genai(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    google: str | None,
    gemini_key: str | None,
    expected: str,
    warns: bool,
) -> None:
    for name, value in (("GOOGLE_API_KEY", google), ("GEMINI_API_KEY", gemini_key)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    sdk_client = genai.Client()
    try:
        sdk_key = sdk_client._api_client.api_key
    finally:
        sdk_client.close()
    assert sdk_key == expected
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        key = gemini.resolve_api_key()
    assert key.reveal() == expected
    assert any("Using GOOGLE_API_KEY" in r.getMessage() for r in caplog.records) is warns
    assert all(expected not in r.getMessage() for r in caplog.records)
    assert gemini.resolve_api_key("explicit").reveal() == "explicit"


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    with pytest.raises(errors.InvalidArgument, match="GOOGLE_API_KEY or GEMINI_API_KEY"):
        gemini.resolve_api_key()
    with pytest.raises(errors.InvalidArgument, match="api_key"):
        gemini.ApiKey("")


def test_the_key_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    secret = "AIzaSyA-0123456789abcdefghijklmnopqrstu"
    key = gemini.ApiKey(secret)
    request = gemini.build_generate_content(MODEL, "hi", api_key=key)
    assert request.header("x-goog-api-key") == secret
    for text in (repr(key), str(key), f"{key}", repr(request), str(request), repr([key])):
        assert secret not in text
    echoed = json.dumps({"error": {"code": 400, "message": f"API key {secret} not valid"}})
    error = gemini.error_from_response(400, {}, echoed)
    assert secret not in str(error) and secret not in error.message and "***" in error.message
    assert secret not in repr(error)


# --- responses --------------------------------------------------------------------------------


def _sdk_response(**fields: Any) -> bytes:
    return (
        types.GenerateContentResponse(**fields)
        .model_dump_json(by_alias=True, exclude_none=True)
        .encode()
    )


RESPONSES: dict[str, bytes] = {
    "text": _sdk_response(
        candidates=[
            types.Candidate(
                content=types.Content(
                    role="model", parts=[types.Part(text="Hello "), types.Part(text="world")]
                ),
                finish_reason=types.FinishReason.STOP,
                index=0,
                safety_ratings=[
                    types.SafetyRating(
                        category=types.HarmCategory.HARM_CATEGORY_HATE_SPEECH,
                        probability=types.HarmProbability.NEGLIGIBLE,
                    )
                ],
            )
        ],
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=5,
            candidates_token_count=2,
            thoughts_token_count=7,
            total_token_count=14,
        ),
        model_version="gemini-2.5-flash-001",
        response_id="resp-1",
    ),
    "thoughts": _sdk_response(
        candidates=[
            types.Candidate(
                content=types.Content(
                    role="model",
                    parts=[types.Part(text="thinking…", thought=True), types.Part(text="answer")],
                ),
                finish_reason=types.FinishReason.MAX_TOKENS,
            ),
            types.Candidate(content=types.Content(parts=[types.Part(text="second")])),
        ],
    ),
    "function-call": _sdk_response(
        candidates=[
            types.Candidate(
                content=types.Content(
                    role="model",
                    parts=[
                        types.Part(
                            function_call=types.FunctionCall(name="f", args={"x": 1}, id="c1")
                        )
                    ],
                ),
                finish_reason=types.FinishReason.STOP,
            )
        ],
    ),
    "inline-data": _sdk_response(
        candidates=[
            types.Candidate(
                content=types.Content(
                    parts=[
                        types.Part(text="pic:"),
                        types.Part(inline_data=types.Blob(mime_type="image/png", data=PNG)),
                    ]
                ),
            )
        ],
    ),
    "blocked-prompt": _sdk_response(
        prompt_feedback=types.GenerateContentResponsePromptFeedback(
            block_reason=types.BlockedReason.SAFETY
        ),
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=3, total_token_count=3
        ),
    ),
    "empty": b"{}",
}


@pytest.mark.parametrize("body", list(RESPONSES.values()), ids=list(RESPONSES))
def test_parse_generate_content_agrees_with_google_genai(body: bytes) -> None:
    reference = types.GenerateContentResponse.model_validate_json(body)
    ours = gemini.parse_generate_content(body)
    assert ours.text == reference.text
    assert len(ours.candidates) == len(reference.candidates or [])
    first = (reference.candidates or [None])[0]
    assert ours.finish_reason == (
        first.finish_reason.value if first and first.finish_reason else None
    )
    assert ours.model_version == reference.model_version
    assert ours.response_id == reference.response_id
    feedback = reference.prompt_feedback
    assert ours.block_reason == (
        feedback.block_reason.value if feedback and feedback.block_reason else None
    )
    usage = reference.usage_metadata
    if usage is None:
        assert ours.usage is None
    else:
        assert ours.usage is not None
        assert ours.usage.prompt_token_count == (usage.prompt_token_count or 0)
        assert ours.usage.candidates_token_count == (usage.candidates_token_count or 0)
        assert ours.usage.thoughts_token_count == (usage.thoughts_token_count or 0)
        assert ours.usage.total_token_count == (usage.total_token_count or 0)
    for our_candidate, their_candidate in zip(
        ours.candidates, reference.candidates or [], strict=True
    ):
        their_parts = (their_candidate.content.parts if their_candidate.content else None) or []
        assert len(our_candidate.parts) == len(their_parts)
        for ours_part, their_part in zip(our_candidate.parts, their_parts, strict=True):
            assert ours_part.text == their_part.text
            assert ours_part.thought == bool(their_part.thought)
            if their_part.inline_data is not None:
                assert ours_part.inline_data is not None
                assert ours_part.inline_data.data == their_part.inline_data.data
                assert ours_part.inline_data.mime_type == their_part.inline_data.mime_type
            if their_part.function_call is not None:
                assert ours_part.function_call == gemini.FunctionCall(
                    their_part.function_call.name or "",
                    dict(their_part.function_call.args or {}),
                    their_part.function_call.id,
                )
        their_ratings = their_candidate.safety_ratings or []
        assert [r.category for r in our_candidate.safety_ratings] == [
            r.category.value for r in their_ratings if r.category
        ]


def test_unknown_fields_are_kept() -> None:
    body = json.dumps(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": "a", "newPartField": 1}]},
                    "finishReason": "SOME_NEW_REASON",
                    "citationMetadata": {"citations": []},
                }
            ],
            "newTopLevel": {"x": [1, 2]},
            "usageMetadata": {"promptTokenCount": 1, "futureTokenCount": 9},
        }
    ).encode()
    response = gemini.parse_generate_content(body)
    assert response.text == "a" and response.finish_reason == "SOME_NEW_REASON"
    assert response.raw["newTopLevel"] == {"x": [1, 2]}
    assert response.candidates[0].raw["citationMetadata"] == {"citations": []}
    assert response.candidates[0].parts[0].raw["newPartField"] == 1
    assert response.usage is not None and response.usage.raw["futureTokenCount"] == 9


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"],
    ids=["empty", "cut", "text", "list", "string", "binary"],
)
def test_malformed_bodies_raise_response_parse_error(body: bytes) -> None:
    with pytest.raises(errors.ResponseParseError):
        gemini.parse_generate_content(body)
    with pytest.raises(errors.ResponseParseError):
        gemini.parse_count_tokens(body)


def test_other_responses_agree_with_google_genai() -> None:
    count = types.CountTokensResponse(total_tokens=42, cached_content_token_count=3)
    count_body = count.model_dump_json(by_alias=True, exclude_none=True).encode()
    parsed = gemini.parse_count_tokens(count_body)
    assert (parsed.total_tokens, parsed.cached_content_token_count) == (42, 3)

    embedding = types.ContentEmbedding(values=[0.25, -1.0, 3.0])
    single = json.dumps(
        {"embedding": embedding.model_dump(mode="json", exclude_none=True)}
    ).encode()
    assert gemini.parse_embed_content(single).values == tuple(embedding.values or [])
    batch = json.dumps(
        {"embeddings": [embedding.model_dump(mode="json", exclude_none=True)] * 2}
    ).encode()
    assert (
        gemini.parse_batch_embed_contents(batch).embeddings == (tuple(embedding.values or []),) * 2
    )

    model = types.Model(
        name="models/gemini-2.5-flash", display_name="Gemini 2.5 Flash", input_token_limit=1048576
    )
    page_body = json.dumps(
        {
            "models": [
                {
                    **model.model_dump(mode="json", by_alias=True, exclude_none=True),
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
            ],
            "nextPageToken": "p2",
        }
    ).encode()
    page = gemini.parse_list_models(page_body)
    assert page.next_page_token == "p2"
    assert page.models[0].name == model.name
    assert page.models[0].display_name == model.display_name
    assert page.models[0].input_token_limit == model.input_token_limit
    assert page.models[0].supported_generation_methods == ("generateContent", "countTokens")


def test_sdk_reads_our_parse_of_a_served_reply(capture: CaptureServer) -> None:
    body = RESPONSES["thoughts"]
    capture.reply = (200, "application/json", body)
    result: list[Any] = []
    sdk_call(capture, lambda c: result.append(c.models.generate_content(model=MODEL, contents="q")))
    assert gemini.parse_generate_content(body).text == result[0].text == "answer"


# --- server-sent events -----------------------------------------------------------------------


def _stream_bytes(chunks: list[bytes], separator: bytes) -> bytes:
    return b"".join(b"data: " + chunk + separator + separator for chunk in chunks)


@pytest.mark.parametrize("separator", [b"\r\n", b"\n"], ids=["crlf", "lf"])
def test_stream_chunks_agree_with_google_genai(capture: CaptureServer, separator: bytes) -> None:
    chunks = [
        _sdk_response(
            candidates=[
                types.Candidate(content=types.Content(role="model", parts=[types.Part(text=t)]))
            ]
        )
        for t in ("Hel", "lo ", "there")
    ]
    stream = _stream_bytes(chunks, separator)
    capture.reply = (200, "text/event-stream", stream)
    sdk_texts: list[Any] = []
    sdk_call(
        capture,
        lambda c: sdk_texts.extend(
            chunk.text for chunk in c.models.generate_content_stream(model=MODEL, contents="q")
        ),
    )
    decoder = gemini.StreamDecoder()
    ours = decoder.feed(stream) + decoder.close()
    assert [chunk.text for chunk in ours] == sdk_texts == ["Hel", "lo ", "there"]


EVENT_DATA = st.lists(
    st.text(alphabet=st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=12),
    min_size=1,
    max_size=3,
)


@given(
    events=st.lists(EVENT_DATA, min_size=1, max_size=5),
    separator=st.sampled_from(["\r\n", "\n", "\r"]),
    comments=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_split_of_a_stream_gives_the_same_events(
    events: list[list[str]], separator: str, comments: bool, cuts: list[int]
) -> None:
    text = ""
    for lines in events:
        if comments:
            text += ": keep-alive" + separator
        text += "".join(f"data: {line}{separator}" for line in lines) + separator
    stream = text.encode()
    expected = [gemini.ServerSentEvent("\n".join(lines)) for lines in events]
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    parser = gemini.SseParser()
    got = [event for piece in pieces for event in parser.feed(piece)]
    got += parser.close()
    assert got == expected


def test_sse_fields_comments_and_multiline_data() -> None:
    parser = gemini.SseParser()
    events = parser.feed(b": hello\r\nevent: update\r\nid: 7\r\ndata:a\r\ndata: b\r\n\r\n\r\n")
    assert events == [gemini.ServerSentEvent("a\nb", "update", "7")]
    assert parser.close() == []
    # A lone CR ends a line too, so a stream whose last byte is that CR is complete.
    parser = gemini.SseParser()
    assert parser.feed(b"data: x\r\r") == []
    assert parser.close() == [gemini.ServerSentEvent("x")]


@pytest.mark.parametrize(
    "tail",
    [b'data: {"candidates": [', b"data: {}\r\n", b"data: {}\n: comment\n", b"da"],
    ids=["cut-json", "no-blank-line", "comment-after-data", "cut-field-name"],
)
def test_a_truncated_final_event_raises(tail: bytes) -> None:
    decoder = gemini.StreamDecoder()
    assert [
        c.text
        for c in decoder.feed(
            b'data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}]}\n\n' + tail
        )
    ] == ["a"]
    with pytest.raises(errors.IncompleteStream):
        decoder.close()
    assert issubclass(errors.IncompleteStream, errors.ResponseParseError)


def test_an_error_mid_stream_raises_the_typed_error() -> None:
    error_event = json.dumps(
        {"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}
    )
    decoder = gemini.StreamDecoder()
    assert decoder.feed(b'data: {"candidates":[]}\r\n\r\n') != []
    with pytest.raises(errors.RateLimited) as caught:
        decoder.feed(f"data: {error_event}\r\n\r\n".encode())
    assert caught.value.status == 429 and caught.value.grpc_status == "RESOURCE_EXHAUSTED"
    with pytest.raises(errors.ResponseParseError):
        gemini.StreamDecoder().feed(b"data: {not json\n\n")


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, errors.ClientError, False),
        (401, errors.ClientError, False),
        (403, errors.ClientError, False),
        (404, errors.ClientError, False),
        (408, errors.Timeout, True),
        (409, errors.ClientError, False),
        (429, errors.RateLimited, True),
        (500, errors.ServerError, True),
        (501, errors.ServerError, False),
        (502, errors.ServerError, True),
        (503, errors.ServerError, True),
        (504, errors.ServerError, True),
    ],
    ids=str,
)
def test_status_matrix(
    capture: CaptureServer, status: int, cls: type[errors.GeminiError], retryable: bool
) -> None:
    body = json.dumps(
        {
            "error": {
                "code": status,
                "message": f"failed with {status}",
                "status": "SOME_STATUS",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R"}],
            }
        }
    ).encode()
    capture.reply = (status, "application/json", body)
    with pytest.raises(genai_errors.APIError) as sdk_error:
        sdk_call(capture, lambda c: c.models.generate_content(model=MODEL, contents="q"))
    error = gemini.error_from_response(status, {"Content-Type": "application/json"}, body)
    assert type(error) is cls
    assert isinstance(error, errors.GeminiError) and isinstance(error, errors.HttpError)
    assert error.retryable is retryable is gemini.is_retryable(status)
    assert (error.code, error.message, error.grpc_status) == (
        sdk_error.value.code,
        sdk_error.value.message,
        sdk_error.value.status,
    )
    assert error.details[0]["reason"] == "R"
    assert error.retry_delay is None
    assert str(error).startswith(f"{status} SOME_STATUS: ")


def test_retry_delay_from_retry_info_and_retry_after() -> None:
    body = json.dumps(
        {
            "error": {
                "code": 429,
                "message": "quota",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"},
                ],
            }
        }
    )
    limited = gemini.error_from_response(429, {"Retry-After": "30"}, body)
    assert isinstance(limited, errors.RateLimited) and limited.retry_delay == 1.5
    assert gemini.error_from_response(503, [("retry-after", "12")], b"").retry_delay == 12.0
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 45, usegmt=True)
    assert gemini.parse_retry_delay([], date, now=now) == 45.0
    assert (
        gemini.parse_retry_delay([], email.utils.formatdate(now - 5, usegmt=True), now=now) == 0.0
    )
    assert gemini.parse_retry_delay([], "soon") is None
    info = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]
    assert gemini.parse_retry_delay(info) == 37.0


def test_non_json_error_bodies_still_give_typed_errors() -> None:
    error = gemini.error_from_response(502, {}, b"<html>Bad Gateway</html>")
    assert isinstance(error, errors.ServerError) and error.retryable
    assert "Bad Gateway" in error.message and error.grpc_status == ""


def test_gemini_errors_pickle_with_their_fields() -> None:
    error = gemini.error_from_response(
        429,
        {"retry-after": "2"},
        json.dumps(
            {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
        ),
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is errors.RateLimited
    assert (again.status, again.message, again.grpc_status, again.retry_delay) == (
        429,
        "slow down",
        "RESOURCE_EXHAUSTED",
        2.0,
    )
    assert str(again) == str(error)
    for cls in (errors.Timeout, errors.Cancelled, errors.CircuitOpen, errors.ResponseParseError):
        assert issubclass(cls, errors.GeminiError)
    assert issubclass(errors.Timeout, TimeoutError)


# --- cost -------------------------------------------------------------------------------------


def test_price_table_bills_thoughts_as_output() -> None:
    table = gemini.PriceTable.from_json(
        json.dumps(
            {
                "gemini-2.5-flash": {"input": 0.3, "output": 2.5},
                "models/gemini-2.5-pro": {"input": 1.25, "output": 10},
            }
        )
    )
    usage = gemini.parse_generate_content(RESPONSES["text"]).usage
    assert usage is not None
    expected = (5 * 0.3 + (2 + 7) * 2.5) / 1_000_000
    assert table.cost(usage, "gemini-2.5-flash") == pytest.approx(expected, rel=1e-12)
    assert table.cost(usage, "models/gemini-2.5-flash") == table.cost(usage, "gemini-2.5-flash")
    assert table.cost(usage, "gemini-2.5-pro") == pytest.approx((5 * 1.25 + 9 * 10) / 1e6)
    with pytest.raises(
        errors.InvalidArgument, match=r"no price for 'gemini-1\.0'.*gemini-2\.5-flash"
    ):
        table.cost(usage, "gemini-1.0")
    with pytest.raises(errors.InvalidArgument, match="missing output"):
        gemini.PriceTable.from_dict({"m": {"input": 1.0}})
    with pytest.raises(errors.InvalidArgument, match="input_per_million"):
        gemini.PriceTable.from_dict({"m": {"input": -1.0, "output": 1.0}})


def test_public_names_resolve() -> None:
    for name in gemini.__all__:
        assert getattr(gemini, name) is not None, name
