# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest i18n sysdeps render-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Debian packages: HarfBuzz's subsetter (WeasyPrint embeds font subsets with it; without
# it the PDFs differ byte-wise from those built where it is present), and the tools the
# tests drive: pdftotext/pdffonts (poppler-utils), Chromium, LibreOffice Writer (the
# word processor that opens and saves the Word documents of the docx tests) and Postfix
# (the delivery test runs an instance of its own on loopback).
RENDER_DEBS := libharfbuzz-subset0
TEST_DEBS := $(RENDER_DEBS) poppler-utils chromium libreoffice-writer-nogui postfix
define ensure_debs
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install: $$missing (apt-get install $$missing)"; exit 1; fi; \
	fi
endef

sysdeps:
	$(call ensure_debs,$(TEST_DEBS))

render-deps:
	$(call ensure_debs,$(RENDER_DEBS))

demo: $(STAMP) render-deps
	$(BIN)/dhpc build content/lemtrada-2019 --out output --html
	$(BIN)/dhpc build content/fictumab-2026 --out output
	@echo "Letters written to output/lemtrada-2019/ and output/fictumab-2026/<CC>/"
	@echo "To preview, review and approve them in a browser:"
	@echo "  $(BIN)/dhpc serve content/lemtrada-2019    (then open http://127.0.0.1:8800/)"

lint: $(STAMP)
	$(BIN)/ruff check dhpc_gen tests benchmarks
	$(BIN)/ruff format --check dhpc_gen tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) sysdeps
	$(BIN)/pytest -q

test: lint typecheck pytest

# Extract boilerplate from the templates, merge into each catalog, compile; then the same
# for the pages of dhpc serve, whose words have catalogs of their own (serve.po).
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o locales/messages.pot --no-location --sort-output --width=100 --project=dhpc_gen --version=0.1.0 .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete --width=100
	$(BIN)/pybabel compile -d locales --statistics
	$(BIN)/pybabel extract -F babel-serve.cfg -o locales/serve.pot --no-location --sort-output --width=100 --project=dhpc_gen --version=0.1.0 .
	$(BIN)/pybabel update -D serve -i locales/serve.pot -d locales --no-fuzzy-matching --ignore-obsolete --width=100
	$(BIN)/pybabel compile -D serve -d locales --statistics

clean:
	rm -rf $(VENV) output/*/
