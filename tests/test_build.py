"""The build names the Debian package to install when a native dependency is missing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pybind11
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("package", "debian"),
    [
        ("xtensor", "libxtensor-dev"),
        ("TBB", "libtbb-dev"),
        ("nlohmann_json", "nlohmann-json3-dev"),
        ("Boost", "libboost-dev"),
        ("OpenSSL", "libssl-dev"),
    ],
)
def test_missing_dependency_names_its_debian_package(
    package: str, debian: str, tmp_path: Path
) -> None:
    cmake = shutil.which("cmake", path=str(Path(sys.executable).parent)) or shutil.which("cmake")
    assert cmake is not None
    result = subprocess.run(
        [
            cmake,
            "-S",
            str(ROOT),
            "-B",
            str(tmp_path),
            "-DSKBUILD_PROJECT_NAME=lumengate",
            "-DSKBUILD_PROJECT_VERSION=0.0.0",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            f"-DCMAKE_DISABLE_FIND_PACKAGE_{package}=ON",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    message = " ".join(result.stderr.split())  # CMake wraps long messages
    assert f"install the Debian package '{debian}'" in message
