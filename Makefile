# gatescope: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test test-fast bench lint screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run pip only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime  ## start the app on http://localhost:8501
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address localhost

test: $(VENV)/.dev  ## the whole suite: engine, figures, pages (AppTest), real browser
	$(BIN)/python -m pytest

test-fast: $(VENV)/.dev  ## everything but the real-browser tests
	$(BIN)/python -m pytest -m "not browser"

bench: $(VENV)/.dev  ## print the measured figures (engine, pages, load, training)
	$(BIN)/python bench/engine.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
