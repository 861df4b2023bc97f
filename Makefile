# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest i18n sysdeps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Tools the tests drive from Debian: pdftotext/pdffonts (poppler-utils), Chromium.
sysdeps:
	@if ! command -v pdftotext >/dev/null || ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils chromium >/dev/null; \
	  else echo "Please install poppler-utils and chromium (needed by the tests)"; exit 1; fi; \
	fi

demo: $(STAMP)
	$(BIN)/dhpc build content/lemtrada-2019 --out output --html
	@echo "Letters written to output/lemtrada-2019/"

lint: $(STAMP)
	$(BIN)/ruff check dhpc_gen tests benchmarks
	$(BIN)/ruff format --check dhpc_gen tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) sysdeps
	$(BIN)/pytest -q

test: lint typecheck pytest

# Extract boilerplate from the templates, merge into each catalog, compile.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o locales/messages.pot --no-location --sort-output --project=dhpc_gen --version=0.1.0 .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete --init-missing
	$(BIN)/pybabel compile -d locales --statistics

clean:
	rm -rf $(VENV) output/*/
