"""An asyncio client of the Gemini Developer API with a native HTTP/TLS core."""

from __future__ import annotations

__all__: list[str] = []
