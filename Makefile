# The quick start is two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the demo needs only the runtime dependencies, the tests add their toolchain.
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: test lint typecheck unit demo bench clean peers lock

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The independent OCPP peer (npm ocpp-rpc, strict mode) used by the test suite.
# Without npm those tests skip (with the reason); .ci/run installs Node.js.
tests/peers/ocpp_rpc/node_modules/.installed: tests/peers/ocpp_rpc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/peers/ocpp_rpc && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else \
		echo "npm not found: the tests against the independent OCPP peer will be skipped"; \
	fi

peers: tests/peers/ocpp_rpc/node_modules/.installed

lint: $(STAMP)
	$(BIN)/ruff check controller hw tests bench
	$(BIN)/ruff format --check controller hw

typecheck: $(STAMP)
	$(BIN)/mypy

# Three workers, one test file each: most tests wait on sockets, timers and child processes
# rather than the CPU, so the suite runs in well under half the time on two cores.
PYTEST_WORKERS ?= 3
unit: $(STAMP) peers
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck unit

demo: $(RUN_STAMP)
	$(BIN)/chargectl demo

bench: $(STAMP)
	$(BIN)/python -m bench

# Refresh the service's pinned dependencies (systemd/requirements.lock, used by install.sh).
# One lock for every platform, resolved for the Pi's Python 3.11, with hashes.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'uv>=0.5,<1'
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--no-header --annotation-style line -o systemd/requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
