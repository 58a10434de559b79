"""What google-genai puts on the wire, captured with FakeGemini.

The native client's wire-equality tests run the same call through both clients against a
:class:`~lumengate.testing.FakeGemini` and compare the :class:`WireRequest` each produced::

    wire = capture_genai(fake, lambda c: c.models.generate_content(model=M, contents="hi"))
    assert wire.path == "/v1beta/models/M:generateContent"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google import genai
from google.genai import types

from lumengate.testing import FakeGemini

__all__ = ["API_KEY", "WIRE_HEADERS", "WireRequest", "capture_genai"]

#: The key every captured call uses.
API_KEY = "wire-test-key"

#: The headers whose values the wire comparison covers (lower-case).
WIRE_HEADERS = ("content-type", "x-goog-api-key")


@dataclass(frozen=True)
class WireRequest:
    """One captured request: method, path, query, the compared headers and the JSON body."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    json: Any


def capture_genai(
    fake: FakeGemini, call: Callable[[genai.Client], object], *, api_key: str = API_KEY
) -> WireRequest:
    """Run ``call`` with a google-genai client pointed at ``fake``; return its one request.

    Streaming calls are consumed to the end. Raises ``AssertionError`` when the call did not
    send exactly one request.
    """
    before = len(fake.requests)
    options = types.HttpOptions(base_url=fake.url)
    with genai.Client(api_key=api_key, http_options=options) as client:
        result = call(client)
        if hasattr(result, "__next__"):
            for _ in result:  # type: ignore[attr-defined]
                pass
    sent = fake.requests[before:]
    assert len(sent) == 1, f"expected one request, the call sent {len(sent)}"
    request = sent[0]
    return WireRequest(
        method=request.method,
        path=request.path,
        query=request.query,
        headers={name: request.headers[name] for name in WIRE_HEADERS if name in request.headers},
        json=request.json,
    )
