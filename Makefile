# Vitrina: `make demo` and `make test` are all a new user needs (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: WeasyPrint's Pango and HarfBuzz font subsetting, fonts, poppler (pdftoppm)
# for looking at PDFs.
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
# The tests also load pages in a real browser: Debian's chromium (no download at run time).
TEST_APT := chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench translations install system-deps clean

demo: install
	$(BIN)/python examples/make_images.py
	$(BIN)/vitrina demo --out out

test: EXTRA_APT += $(TEST_APT)
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check pim channels tests benchmarks examples
	$(BIN)/ruff format --check pim channels
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/run.py --write
	$(BIN)/python benchmarks/pdf_baseline.py --write

# Extract every string of the templates and the code into locales/vitrina.pot and merge it
# into each language's catalogue; translate the new (empty) entries, then `make test`.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k gettext_for:2 -k ngettext_for:2,3 \
	  --project Vitrina --no-location --sort-output --width 100 -o locales/vitrina.pot .
	$(BIN)/pybabel update -i locales/vitrina.pot -d locales -D vitrina \
	  --no-fuzzy-matching --ignore-obsolete --width 100

install: system-deps $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Installs only what is missing, so it costs nothing on a machine that has it all.
system-deps:
	@missing=""; for p in $(APT_PACKAGES) $(EXTRA_APT); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

clean:
	rm -rf out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
