"""FakeGemini speaks what google-genai parses, and every scripted fault is observable."""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import importlib.util
import itertools
import json
import math
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from lumengate.errors import InvalidArgument
from lumengate.testing import FakeGemini, Fault, Reply

MODEL = "gemini-2.5-flash"
KEY = {"x-goog-api-key": "test"}


def _load_wire_cases() -> ModuleType:
    path = Path(__file__).with_name("gemini_wire_cases.py")
    spec = importlib.util.spec_from_file_location("gemini_wire_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gemini_wire_cases", module)
    spec.loader.exec_module(module)
    return module


wire_cases = _load_wire_cases()


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads() -> set[threading.Thread]:
    return set(threading.enumerate())


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Every test leaves the thread set and the open file descriptor count as it found them."""
    gc.collect()
    threads, fds = _threads(), _fds()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        gc.collect()
        if _threads() <= threads and _fds() <= fds:
            break
        time.sleep(0.05)
    assert _threads() - threads == set()
    assert _fds() <= fds


@pytest.fixture
def client(fake_gemini: FakeGemini) -> Iterator[genai.Client]:
    with genai.Client(
        api_key="test", http_options=types.HttpOptions(base_url=fake_gemini.url)
    ) as c:
        yield c


def _http(fake: FakeGemini, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=fake.url, headers=KEY, **kwargs)


def _tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


# ---------------------------------------------------------------------------- google-genai


def test_fixture_comes_from_the_pytest11_entry_point() -> None:
    plugins = {e.name: e.value for e in importlib.metadata.entry_points(group="pytest11")}
    assert plugins.get("lumengate_fake_gemini") == "lumengate.testing.pytest_plugin"


def test_generate_content_parses_in_google_genai(
    client: genai.Client, fake_gemini: FakeGemini
) -> None:
    response = client.models.generate_content(model=MODEL, contents="hello there, world")
    assert response.text == "Echo: hello there, world"
    candidate = response.candidates[0]  # type: ignore[index]
    assert candidate.finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage is not None
    assert usage.prompt_token_count == _tokens("hello there, world")
    assert usage.candidates_token_count == _tokens("Echo: hello there, world")
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert usage.thoughts_token_count is None
    assert response.model_version and response.model_version.startswith(MODEL)
    assert response.response_id
    request = fake_gemini.last_request
    assert request.method == "POST"
    assert request.path == f"/v1beta/models/{MODEL}:generateContent"
    assert request.endpoint == "generateContent" and request.model == MODEL
    assert request.headers["x-goog-api-key"] == "test"
    assert request.json["contents"] == [{"parts": [{"text": "hello there, world"}], "role": "user"}]


def test_generate_content_config_is_honoured(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        system_instruction="be brief",
        max_output_tokens=3,
        thinking_config=types.ThinkingConfig(thinking_budget=8),
    )
    response = client.models.generate_content(
        model=MODEL, contents="one two three four five", config=config
    )
    assert response.text == "Echo: one"
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS  # type: ignore[index]
    usage = response.usage_metadata
    assert usage is not None
    assert usage.prompt_token_count == _tokens("be brief\none two three four five")
    assert usage.thoughts_token_count == 8
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count  # type: ignore[operator]
    )


def test_responses_differ_by_id_but_not_by_content(client: genai.Client) -> None:
    first = client.models.generate_content(model=MODEL, contents="same")
    second = client.models.generate_content(model=MODEL, contents="same")
    assert first.text == second.text
    assert first.response_id != second.response_id


def test_scripted_text_reply(client: genai.Client, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("Paris"))
    assert client.models.generate_content(model=MODEL, contents="capital?").text == "Paris"
    assert client.models.generate_content(model=MODEL, contents="x").text == "Echo: x"


def test_scripted_json_reply_is_sent_verbatim(
    client: genai.Client, fake_gemini: FakeGemini
) -> None:
    body = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "hidden", "thought": True}]},
                "finishReason": "SAFETY",
            }
        ],
        "promptFeedback": {"blockReason": "OTHER"},
        "someFutureField": 1,
    }
    fake_gemini.script(Reply.json(body))
    response = client.models.generate_content(model=MODEL, contents="?")
    assert response.candidates[0].finish_reason == types.FinishReason.SAFETY  # type: ignore[index]
    assert response.prompt_feedback is not None
    assert response.prompt_feedback.block_reason == types.BlockedReason.OTHER


def test_default_stream_reassembles_the_echo(client: genai.Client) -> None:
    prompt = "stream me a fairly long answer please"
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=prompt))
    assert len(chunks) > 1
    assert "".join(c.text or "" for c in chunks) == f"Echo: {prompt}"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])  # type: ignore[index]
    last_usage = chunks[-1].usage_metadata
    assert last_usage is not None
    assert last_usage.candidates_token_count == _tokens(f"Echo: {prompt}")


def test_scripted_stream_with_delays(client: genai.Client, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.stream(["Hel", "lo", "!"], delay=0.1))
    arrivals = []
    texts = []
    for chunk in client.models.generate_content_stream(model=MODEL, contents="hi"):
        arrivals.append(time.monotonic())
        texts.append(chunk.text)
    assert texts == ["Hel", "lo", "!"]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.08
    request = fake_gemini.last_request
    assert request.endpoint == "streamGenerateContent"
    assert request.query == {"alt": ("sse",)}


def test_stream_wire_format(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.stream(["a", "b"]))
    with _http(fake_gemini) as http:
        response = http.post(f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", json={})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.content.split(b"\r\n\r\n")
    assert events[-1] == b""
    assert [e[:6] for e in events[:-1]] == [b"data: ", b"data: "]
    assert b"[DONE]" not in response.content


def test_stream_error_event_raises_in_google_genai(
    client: genai.Client, fake_gemini: FakeGemini
) -> None:
    fake_gemini.script(Fault.stream_error(["Hel"], code=503, message="overloaded"))
    received = []
    with pytest.raises(genai_errors.APIError) as caught:
        for chunk in client.models.generate_content_stream(model=MODEL, contents="hi"):
            received.append(chunk.text)
    assert received == ["Hel"]
    assert caught.value.code == 503
    assert "overloaded" in str(caught.value)


def test_count_tokens(client: genai.Client) -> None:
    result = client.models.count_tokens(model=MODEL, contents="How many tokens, exactly?")
    assert result.total_tokens == _tokens("How many tokens, exactly?")


def test_embed_content_is_deterministic_unit_vectors(
    client: genai.Client, fake_gemini: FakeGemini
) -> None:
    config = types.EmbedContentConfig(output_dimensionality=16)
    result = client.models.embed_content(
        model="gemini-embedding-001", contents=["alpha", "beta", "alpha"], config=config
    )
    assert fake_gemini.last_request.endpoint == "batchEmbedContents"
    vectors = [e.values for e in result.embeddings]  # type: ignore[union-attr]
    assert [len(v) for v in vectors] == [16, 16, 16]  # type: ignore[arg-type]
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
    for vector in vectors:
        assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-9)  # type: ignore[union-attr]
    default = client.models.embed_content(model="gemini-embedding-001", contents="alpha")
    assert len(default.embeddings[0].values) == 3072  # type: ignore[arg-type,index]


def test_embed_content_endpoint(fake_gemini: FakeGemini) -> None:
    with _http(fake_gemini) as http:
        body = {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 4}
        one = http.post("/v1beta/models/text-embedding-004:embedContent", json=body).json()
        batch = http.post(
            "/v1beta/models/text-embedding-004:batchEmbedContents", json={"requests": [body]}
        ).json()
        bad = http.post(
            "/v1beta/models/text-embedding-004:embedContent",
            json={"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 0},
        )
    assert batch["embeddings"] == [one["embedding"]]
    assert len(one["embedding"]["values"]) == 4
    assert bad.status_code == 400 and "outputDimensionality" in bad.json()["error"]["message"]


def test_models_list_pagination(client: genai.Client, fake_gemini: FakeGemini) -> None:
    with _http(fake_gemini) as http:
        everything = http.get("/v1beta/models", params={"pageSize": 1000}).json()["models"]
    fake_gemini.clear()
    pager = client.models.list(config=types.ListModelsConfig(page_size=2))
    names = [m.name for m in pager]
    assert names == [m["name"] for m in everything]
    assert len(set(names)) == len(names) >= 5
    pages = fake_gemini.requests
    assert len(pages) == math.ceil(len(names) / 2)
    assert all(r.query["pageSize"] == ("2",) for r in pages)
    assert "pageToken" not in pages[0].query
    assert all("pageToken" in r.query for r in pages[1:])


def test_models_get(client: genai.Client) -> None:
    model = client.models.get(model=MODEL)
    assert model.name == f"models/{MODEL}"
    assert model.input_token_limit and model.output_token_limit
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.get(model="no-such-model")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_bad_page_token(fake_gemini: FakeGemini) -> None:
    with _http(fake_gemini) as http:
        response = http.get("/v1beta/models", params={"pageToken": "garbage"})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


# ---------------------------------------------------------------------------- auth and errors


def test_missing_api_key_is_rejected_in_gemini_error_shape(fake_gemini: FakeGemini) -> None:
    with httpx.Client(base_url=fake_gemini.url) as http:
        response = http.post(f"/v1beta/models/{MODEL}:generateContent", json={})
    assert response.status_code == 403
    error = response.json()["error"]
    assert set(error) == {"code", "message", "status", "details"}
    assert error["code"] == 403 and error["status"] == "PERMISSION_DENIED"


def test_wrong_api_key_when_one_is_required() -> None:
    with FakeGemini(api_key="right") as fake:
        with genai.Client(
            api_key="wrong", http_options=types.HttpOptions(base_url=fake.url)
        ) as client:
            with pytest.raises(genai_errors.ClientError) as caught:
                client.models.generate_content(model=MODEL, contents="hi")
            assert caught.value.code == 400
            assert caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        with genai.Client(
            api_key="right", http_options=types.HttpOptions(base_url=fake.url)
        ) as client:
            assert client.models.generate_content(model=MODEL, contents="hi").text == "Echo: hi"


def test_unknown_path_and_malformed_body(fake_gemini: FakeGemini) -> None:
    with _http(fake_gemini) as http:
        missing = http.get("/v1/other")
        malformed = http.post(f"/v1beta/models/{MODEL}:generateContent", content=b"{not json")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    assert malformed.status_code == 400
    assert malformed.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert fake_gemini.last_request.json is None and fake_gemini.last_request.body == b"{not json"


def test_429_with_retry_info_and_retry_after(client: genai.Client, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.status(429, "quota", retry_delay=1.5, retry_after=2))
    with _http(fake_gemini) as http:
        response = http.post(f"/v1beta/models/{MODEL}:generateContent", json={})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    error = response.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED" and error["message"] == "quota"
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}
    ]
    fake_gemini.script(Fault.status(429, retry_delay=0.25))
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    assert caught.value.code == 429
    assert caught.value.details["error"]["details"][0]["retryDelay"] == "0.25s"


@pytest.mark.parametrize("code", [500, 503])
def test_server_errors(client: genai.Client, fake_gemini: FakeGemini, code: int) -> None:
    fake_gemini.script(Fault.status(code))
    with pytest.raises(genai_errors.ServerError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    assert caught.value.code == code
    assert client.models.generate_content(model=MODEL, contents="hi").text == "Echo: hi"


def test_reset_mid_body(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.reset(after_bytes=20))
    with _http(fake_gemini) as http:
        with http.stream("POST", f"/v1beta/models/{MODEL}:generateContent", json={}) as response:
            assert response.status_code == 200
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                response.read()
        assert http.post(f"/v1beta/models/{MODEL}:countTokens", json={}).status_code == 200


def test_malformed_json(client: genai.Client, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.malformed_json())
    with _http(fake_gemini) as http:
        response = http.post(f"/v1beta/models/{MODEL}:generateContent", json={})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_truncated_stream(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.truncated_stream(["Hel", "lo"]))
    lines = []
    with _http(fake_gemini) as http:
        url = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
        with http.stream("POST", url, json={}) as response:
            with pytest.raises(httpx.RemoteProtocolError):
                for line in response.iter_lines():
                    lines.append(line)
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert [e["candidates"][0]["content"]["parts"][0]["text"] for e in events] == ["Hel", "lo"]


def test_slow_loris_trips_a_short_read_timeout(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.slow_loris(interval=0.5))
    with _http(fake_gemini, timeout=httpx.Timeout(5.0, read=0.2)) as http:
        started = time.monotonic()
        with http.stream("POST", f"/v1beta/models/{MODEL}:generateContent", json={}) as response:
            assert response.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                response.read()
    assert time.monotonic() - started < 2


def test_close_without_response(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.close())
    with _http(fake_gemini) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            http.post(f"/v1beta/models/{MODEL}:generateContent", json={})
    assert fake_gemini.last_request.endpoint == "generateContent"


def test_latency_before_headers_and_server_timing(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.json({"totalTokens": 1}, latency=0.2))
    with _http(fake_gemini) as http:
        started = time.monotonic()
        slow = http.post(f"/v1beta/models/{MODEL}:countTokens", json={})
        elapsed = time.monotonic() - started
        fast = http.post(f"/v1beta/models/{MODEL}:countTokens", json={})
    assert elapsed >= 0.19
    assert int(slow.headers["x-fake-server-time-us"]) >= 190_000
    assert int(fast.headers["x-fake-server-time-us"]) < 100_000


# ---------------------------------------------------------------------------- scripting


def test_script_matches_endpoint_model_and_times(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.status(500), endpoint="countTokens", model="gemini-2.5-pro")
    fake_gemini.script(Fault.status(503), times=2)
    assert fake_gemini.pending == 2
    with _http(fake_gemini) as http:
        flash = http.post(f"/v1beta/models/{MODEL}:countTokens", json={}).status_code
        pro = http.post("/v1beta/models/gemini-2.5-pro:countTokens", json={}).status_code
        third = http.get("/v1beta/models").status_code
        fourth = http.get("/v1beta/models").status_code
    assert (flash, pro, third, fourth) == (503, 500, 503, 200)
    assert fake_gemini.pending == 0


def test_script_rejects_unknown_values(fake_gemini: FakeGemini) -> None:
    with pytest.raises(InvalidArgument, match="endpoint must be one of") as caught:
        fake_gemini.script(Fault.close(), endpoint="generate")
    assert caught.value.field == "endpoint"
    with pytest.raises(InvalidArgument, match=r"code must be in 400\.\.599"):
        Fault.status(200)
    with pytest.raises(InvalidArgument, match="delay"):
        Reply.stream(["a"], delay=-1)
    with pytest.raises(InvalidArgument, match="chunks"):
        Reply.stream("abc")


def test_records_and_clear(fake_gemini: FakeGemini) -> None:
    with pytest.raises(LookupError):
        _ = fake_gemini.last_request
    before = time.monotonic()
    with _http(fake_gemini) as http:
        http.post(f"/v1beta/models/{MODEL}:countTokens?x=1&x=2", json={"contents": []})
    request = fake_gemini.last_request
    assert request.query == {"x": ("1", "2")}
    assert request.json == {"contents": []}
    assert before <= request.arrived <= time.monotonic()
    assert abs(request.arrived_wall - time.time()) < 5
    assert request.headers["content-type"] == "application/json"
    fake_gemini.script(Fault.close())
    fake_gemini.clear()
    assert fake_gemini.requests == () and fake_gemini.pending == 0


# ---------------------------------------------------------------------------- connections


def test_keep_alive_reuses_one_connection(fake_gemini: FakeGemini) -> None:
    with _http(fake_gemini) as http:
        for _ in range(5):
            assert http.post(f"/v1beta/models/{MODEL}:countTokens", json={}).status_code == 200
    assert fake_gemini.connections == 1
    assert {r.connection for r in fake_gemini.requests} == {1}


def test_many_concurrent_streams(fake_gemini: FakeGemini) -> None:
    streams = 64
    fake_gemini.script(Reply.stream(["a", "b", "c"], delay=0.1), times=streams)

    async def run() -> list[str]:
        limits = httpx.Limits(max_connections=streams)
        async with httpx.AsyncClient(base_url=fake_gemini.url, headers=KEY, limits=limits) as http:

            async def one() -> str:
                url = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
                response = await http.post(url, json={})
                return "".join(
                    json.loads(line[6:])["candidates"][0]["content"]["parts"][0]["text"]
                    for line in response.text.split("\r\n")
                    if line.startswith("data: ")
                )

            return await asyncio.gather(*(one() for _ in range(streams)))

    started = time.monotonic()
    texts = asyncio.run(run())
    assert texts == ["abc"] * streams
    # Sequential streams would take 64 × 0.2 s; concurrent ones overlap.
    assert time.monotonic() - started < 5
    assert fake_gemini.connections == streams


def test_start_stop_leaves_nothing_behind() -> None:
    gc.collect()
    threads, fds = _threads(), _fds()
    for tls in (False, True):
        for _ in range(5):
            fake = FakeGemini(tls=tls).start()
            with httpx.Client(base_url=fake.url, verify=False) as http:
                with http.stream("GET", "/v1beta/models", headers=KEY) as response:
                    assert response.status_code == 200
                    path = fake.ca_path if tls else None
                    fake.stop()
            fake.stop()
            assert path is None or not os.path.exists(path)
    gc.collect()
    assert _threads() == threads
    assert _fds() == fds


def test_cannot_start_twice_or_bind_a_taken_port() -> None:
    with FakeGemini() as fake:
        with pytest.raises(RuntimeError, match="already running"):
            fake.start()
        with pytest.raises(OSError):
            FakeGemini(port=fake.port).start()


# ---------------------------------------------------------------------------- TLS


def test_tls_with_the_throwaway_ca(fake_gemini_tls: FakeGemini) -> None:
    assert fake_gemini_tls.url.startswith("https://127.0.0.1:")
    assert fake_gemini_tls.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    context = ssl.create_default_context(cafile=fake_gemini_tls.ca_path)
    options = types.HttpOptions(base_url=fake_gemini_tls.url, client_args={"verify": context})
    with genai.Client(api_key="test", http_options=options) as client:
        assert client.models.generate_content(model=MODEL, contents="tls").text == "Echo: tls"
    with httpx.Client(base_url=fake_gemini_tls.url, headers=KEY) as http:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            http.get("/v1beta/models")


def test_tls_certificate_for_the_wrong_host_fails_verification() -> None:
    with FakeGemini(tls=True, cert_hostname="wrong.example") as fake:
        context = ssl.create_default_context(cafile=fake.ca_path)
        with httpx.Client(base_url=fake.url, headers=KEY, verify=context) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                http.get("/v1beta/models")
        unchecked = ssl.create_default_context(cafile=fake.ca_path)
        unchecked.check_hostname = False
        with httpx.Client(base_url=fake.url, headers=KEY, verify=unchecked) as http:
            assert http.get("/v1beta/models").status_code == 200


# ---------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_cli_serves_until_interrupted(tls: bool) -> None:
    command = [sys.executable, "-m", "lumengate.cli", "fake-gemini", "--port", "0"]
    if tls:
        command.append("--tls")
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.fullmatch(r"fake Gemini serving on (https?://127\.0\.0\.1:\d+)\n", line)
            assert match, line
            verify: Any = True
            if tls:
                ca = process.stdout.readline().removeprefix("CA certificate: ").strip()
                verify = ssl.create_default_context(cafile=ca)
            with httpx.Client(base_url=match.group(1), headers=KEY, verify=verify) as http:
                assert http.get(f"/v1beta/models/{MODEL}").json()["name"] == f"models/{MODEL}"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
            assert process.stdout.read() == "fake Gemini stopped\n"
        finally:
            process.kill()
    if tls:
        assert not os.path.exists(ca)


# ---------------------------------------------------------------------------- wire capture


def test_capture_genai_generate_content(fake_gemini: FakeGemini) -> None:
    config = types.GenerateContentConfig(temperature=0.2, max_output_tokens=64)
    wire = wire_cases.capture_genai(
        fake_gemini,
        lambda c: c.models.generate_content(model=MODEL, contents="hello", config=config),
    )
    assert wire.method == "POST"
    assert wire.path == f"/v1beta/models/{MODEL}:generateContent"
    assert wire.headers == {
        "content-type": "application/json",
        "x-goog-api-key": wire_cases.API_KEY,
    }
    assert wire.json == {
        "contents": [{"parts": [{"text": "hello"}], "role": "user"}],
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 64},
    }


def test_capture_genai_stream_and_embed(fake_gemini: FakeGemini) -> None:
    stream = wire_cases.capture_genai(
        fake_gemini, lambda c: c.models.generate_content_stream(model=MODEL, contents="s")
    )
    assert stream.path == f"/v1beta/models/{MODEL}:streamGenerateContent"
    assert stream.query == {"alt": ("sse",)}
    embed = wire_cases.capture_genai(
        fake_gemini,
        lambda c: c.models.embed_content(model="text-embedding-004", contents=["a", "b"]),
    )
    assert embed.path == "/v1beta/models/text-embedding-004:batchEmbedContents"
    assert [r["content"]["parts"] for r in embed.json["requests"]] == [
        [{"text": "a"}],
        [{"text": "b"}],
    ]
    assert all(r["model"] == "models/text-embedding-004" for r in embed.json["requests"])


def test_capture_genai_requires_exactly_one_request(fake_gemini: FakeGemini) -> None:
    with pytest.raises(AssertionError, match="expected one request"):
        wire_cases.capture_genai(fake_gemini, lambda c: None)
