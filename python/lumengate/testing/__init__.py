"""Test helpers: :class:`FakeGemini`, a fake Gemini Developer API on 127.0.0.1.

Script what it answers with :class:`Reply` and :class:`Fault` values and read what it received
from :attr:`FakeGemini.requests`. With lumengate installed, pytest gets the fixtures
``fake_gemini`` (HTTP) and ``fake_gemini_tls`` (HTTPS with a throwaway CA) from
:mod:`lumengate.testing.pytest_plugin`.
"""

from __future__ import annotations

from lumengate.testing._script import ENDPOINTS, Fault, RecordedRequest, Reply, error_body
from lumengate.testing._server import FakeGemini

__all__ = ["ENDPOINTS", "FakeGemini", "Fault", "RecordedRequest", "Reply", "error_body"]
