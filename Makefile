# Two commands do all the set-up on a fresh machine:
#   make lab    local Directus + JupyterLab on the tutorial notebooks
#   make test   the whole test suite (unit, integration, notebooks, browser)
# Directus itself is installed once into a per-user cache (first time: ~3-5 min).
# `make lab LAB_ARGS="--port 0 --lab-port 0 --no-browser"` passes options to
# `directus-chat lab` (see `.venv/bin/directus-chat lab --help`).

PYTHON ?= python3
VENV   ?= .venv
LAB_ARGS ?=
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: lab test check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lab,dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-* && touch $@

# directus-chat runs JupyterLab on the venv's own Python, so nothing needs activating.
lab: $(STAMP)
	$(BIN)/directus-chat lab $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/directus-chat install
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

check: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/latency.py && $(BIN)/python bench/widget.py && $(BIN)/python bench/render.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
