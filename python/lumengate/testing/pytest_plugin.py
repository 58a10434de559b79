"""pytest fixtures ``fake_gemini`` and ``fake_gemini_tls`` (registered through ``pytest11``).

Each test gets its own started :class:`~lumengate.testing.FakeGemini`, stopped afterwards::

    def test_answer(fake_gemini):
        fake_gemini.script(Reply.text("Paris"))
        client = genai.Client(api_key="test", http_options={"base_url": fake_gemini.url})
        answer = client.models.generate_content(model="gemini-2.5-flash", contents="?")
        assert answer.text == "Paris"
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lumengate.testing._server import FakeGemini

__all__ = ["fake_gemini", "fake_gemini_tls"]


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """A started plain-HTTP FakeGemini on 127.0.0.1, stopped after the test."""
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def fake_gemini_tls() -> Iterator[FakeGemini]:
    """A started HTTPS FakeGemini; trust :attr:`FakeGemini.ca_path` in the client."""
    with FakeGemini(tls=True) as fake:
        yield fake
