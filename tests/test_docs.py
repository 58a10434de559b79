"""The README's Python examples and the modules' docstring examples run as written."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import lumengate._drift_detectors
import lumengate._drift_histogram
import lumengate._drift_tests
import lumengate._gemini_client
import lumengate._gemini_models
import lumengate._gemini_policy
import lumengate._persona_keys
import lumengate._persona_router
import lumengate._persona_scorer
import lumengate.assign
import lumengate.stats
import lumengate.testing._responses
import lumengate.testing._script
import lumengate.testing._server
import lumengate.tokens

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples() -> None:
    assert len(_python_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(_python_blocks())), ids=lambda i: f"block{i}")
def test_readme_block_runs(index: int) -> None:
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(_python_blocks()[index], f"README.md block {index}", "exec"), namespace)


DOCUMENTED_MODULES = [
    lumengate.assign,
    lumengate.stats,
    lumengate._drift_histogram,
    lumengate._drift_tests,
    lumengate._drift_detectors,
    lumengate._persona_scorer,
    lumengate._persona_router,
    lumengate.tokens,
    lumengate._persona_keys,
    lumengate._gemini_models,
    lumengate._gemini_client,
    lumengate._gemini_policy,
    lumengate.testing._script,
    lumengate.testing._responses,
    lumengate.testing._server,
]


@pytest.mark.parametrize("module", DOCUMENTED_MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
