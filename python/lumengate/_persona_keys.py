"""Part of :mod:`lumengate.persona`."""

from __future__ import annotations

__all__: list[str] = []
