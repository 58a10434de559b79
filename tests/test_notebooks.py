"""Every notebook in notebooks/ runs top to bottom at a small size and shows a plot."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
KERNEL = "python3"
SMALL_N = "20000"
CELL_TIMEOUT = 300


def _kernel_python() -> str:
    """The interpreter the ``python3`` kernelspec launches, as jupyter_client resolves it."""
    manager = KernelManager(kernel_name=KERNEL)
    return manager.format_kernel_cmd()[0]


def _same_python(path: str) -> bool:
    try:
        return os.path.samefile(path, sys.executable)
    except OSError:
        return False


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Environment of the kernel process: headless matplotlib, a small user table, and a
    ``python3`` kernelspec that runs this interpreter (never a global registration)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("LUMENGATE_NOTEBOOK_N", SMALL_N)
    if not _same_python(_kernel_python()):
        spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (test interpreter)",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        path = os.pathsep.join(
            p for p in (str(tmp_path / "jupyter"), os.environ.get("JUPYTER_PATH")) if p
        )
        monkeypatch.setenv("JUPYTER_PATH", path)
    resolved = _kernel_python()
    assert _same_python(resolved), (
        f"kernel {KERNEL!r} runs {resolved} ({KernelSpecManager().find_kernel_specs()}), "
        f"not {sys.executable}"
    )


def _images(nb: object) -> int:
    return sum(
        1
        for cell in nb.cells  # type: ignore[attr-defined]
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") in ("display_data", "execute_result")
        and "image/png" in output.get("data", {})
    )


@pytest.mark.usefixtures("kernel_env")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    errors = [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path.name} raised: {errors}"
    assert _images(nb) >= 1, f"{path.name} shows no plot (no image/png output)"
