# gatescope: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# `make run ADDRESS=0.0.0.0` serves the app to a classroom network
ADDRESS ?= localhost

# The engine's matrices are small (H ≤ 256): on a 2-core server OpenBLAS's second thread only
# waits for a CPU (a 64×1000×64 product: 25-30 ms on 2 threads, 0.3 ms on 1; bench/engine.py).
# One BLAS thread per process for the app, the tests and the benchmarks.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: run serve stop test test-fast bench lint screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run pip only when a requirements file or the package list changes.
$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime  ## start the app on http://localhost:8501
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

# `make serve REPLICAS=N PORT=P [ADDRESS=0.0.0.0]`: N app processes (default: one per core)
# behind HAProxy on ADDRESS:PORT; Ctrl-C or `make stop` stops them all (deploy/serve.py).
REPLICAS ?=

serve: $(VENV)/.runtime  ## N replicas behind HAProxy on http://localhost:8501
	@if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq --no-install-recommends haproxy >/dev/null \
	    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy >/dev/null; }; \
	  else echo "haproxy is missing: run  sudo apt-get install -y haproxy"; exit 1; fi; fi
	$(BIN)/python deploy/serve.py --port $(PORT) --address $(ADDRESS) $(if $(REPLICAS),--replicas $(REPLICAS))

stop:  ## stop `make serve` (every serve running, or the one on PORT=P)
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) deploy/serve.py --stop $(if $(filter command line,$(origin PORT)),--port $(PORT))

test: $(VENV)/.dev  ## the whole suite: engine, figures, pages (AppTest), real browser
	$(BIN)/python -m pytest

test-fast: $(VENV)/.dev  ## everything but the real-browser tests
	$(BIN)/python -m pytest -m "not browser"

bench: $(VENV)/.dev  ## print the measured figures (engine, pages, load, training, Play, profile, replicas, lesson file)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/train.py
	$(BIN)/python bench/train_load.py
	$(BIN)/python bench/frontend.py
	$(BIN)/python bench/profile.py
	$(BIN)/python bench/replicas.py
	$(BIN)/python bench/lesson.py
	$(BIN)/python bench/torch_check.py

screenshots: $(VENV)/.dev  ## the README's screenshots of every page, in headless chromium
	$(BIN)/python assets/screenshots.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
