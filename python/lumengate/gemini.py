"""Gemini for lumengate: :class:`Client` (asyncio) and :class:`BlockingClient` on the native
transport, and the Developer API's request and response layer usable on its own: ``build_*``
functions give the exact bytes google-genai would send, ``parse_*`` functions turn reply bytes
into frozen dataclasses or typed errors (:mod:`lumengate.errors`).
"""

from __future__ import annotations

from lumengate._gemini_client import *  # noqa: F403
from lumengate._gemini_client import __all__ as _client_all
from lumengate._gemini_models import *  # noqa: F403
from lumengate._gemini_models import __all__ as _models_all
from lumengate._gemini_policy import *  # noqa: F403
from lumengate._gemini_policy import __all__ as _policy_all

__all__ = [*_client_all, *_models_all, *_policy_all]
