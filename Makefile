# WebSocket_DeSafio: `make run` starts the product, `make test` proves it.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install system-deps run cluster migrate dashboard vapid-keys test test-only faults lint format bench bench-smoke clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

run: install
	$(VENV)/bin/honcho start

# Two instances behind nginx on :8765, sharing one Redis (docs/cluster.md).
cluster: install system-deps
	$(VENV)/bin/honcho -f Procfile.cluster start

# Apply database migrations (the server also applies them at start-up); DATABASE_URL picks the DB.
migrate: install
	$(PY) -c "from backend.config import get_settings; from backend.storage.migrate import upgrade; upgrade(get_settings().database_url)"

# A VAPID key pair for Web Push (docs/push.md).
vapid-keys: install
	$(PY) -m backend.push keys

dashboard: install
	$(VENV)/bin/streamlit run dashboard/app.py --server.headless true --browser.gatherUsageStats false --server.address 127.0.0.1

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install system-deps lint test-only

# pytest in two passes, both always run: every test not marked `serial` on TEST_WORKERS
# processes at once (pytest-xdist; a module's tests stay together, sharing its server), then the
# `serial` ones alone, as they measure time, latency or memory that a busy neighbour would skew.
# PYTEST_ARGS goes to both; a pass it leaves without tests (pytest's exit 5) is no failure, as
# long as the other ran some.
TEST_WORKERS ?= 2
test-only: install
	status=0; \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not serial" $(PYTEST_ARGS); first=$$?; \
	$(PY) -m pytest -m serial $(PYTEST_ARGS); second=$$?; \
	for code in $$first $$second; do [ $$code -eq 0 ] || [ $$code -eq 5 ] || status=$$code; done; \
	[ $$first -eq 5 ] && [ $$second -eq 5 ] && status=5; \
	exit $$status

# The fault and adversarial suites at soak scale: many seeds, longer phases, bigger attacks
# (`make test` runs them small). FAULT_SEED_BASE=N replays a failing run's seeds.
faults: install system-deps
	FAULT_SEEDS=$${FAULT_SEEDS:-20} FAULT_SECONDS=$${FAULT_SECONDS:-4} ADVERSARIAL_SCALE=long \
		$(PY) -m pytest tests/faults tests/adversarial -o timeout=1800 $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

bench-smoke: install
	$(PY) -m bench --scale smoke --peers hub,websockets

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
