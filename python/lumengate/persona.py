"""Personas: resonance keys (``tone-pace-intent``), routing a query to a persona with a
calibrated confidence, hybrid item scoring and prompt building.
"""

from __future__ import annotations

from lumengate._persona_embed import *  # noqa: F403
from lumengate._persona_embed import __all__ as _embed_all
from lumengate._persona_keys import *  # noqa: F403
from lumengate._persona_keys import __all__ as _keys_all
from lumengate._persona_router import *  # noqa: F403
from lumengate._persona_router import __all__ as _router_all
from lumengate._persona_scorer import *  # noqa: F403
from lumengate._persona_scorer import __all__ as _scorer_all

__all__ = [*_embed_all, *_keys_all, *_router_all, *_scorer_all]
