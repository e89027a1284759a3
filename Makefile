# Mesa: the two commands of the README.
#   make run   installs, migrates, loads the demo data and serves http://127.0.0.1:5000
#   make test  installs and runs the whole test suite (SQLite; PostgreSQL with MESA_TEST_DATABASE_URL)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test install install-test browser system-packages clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Browser tests drive Debian's Chromium; install it when missing and we may (root).
# The accessibility tests inject axe-core, installed from the npm registry at the
# version package-lock.json pins (npm ci) when node_modules/axe-core is missing.
browser:
	@if [ ! -f node_modules/axe-core/axe.min.js ]; then \
	  if command -v npm >/dev/null; then \
	    echo "Installing axe-core for the accessibility tests (npm ci)..."; \
	    npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; \
	  else \
	    echo "npm not found: the accessibility tests will be skipped (install Node.js and npm)."; \
	  fi; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else \
	    echo "Chromium not found at /usr/bin/chromium: browser tests will be skipped (install the 'chromium' package)."; \
	  fi; \
	fi

# Summaries: WeasyPrint (PDF) needs Pango >= 1.44 and HarfBuzz's subsetter; DejaVu covers
# Latin and Arabic, Noto Color Emoji the emoji; pdftotext (poppler) reads PDFs back in tests.
# Installed with apt-get when missing and we may (root); otherwise say what is needed.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-color-emoji poppler-utils

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing for PDF summaries..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null); \
	  else \
	    echo "Missing system packages for PDF summaries:$$missing (install them with apt-get)."; \
	  fi; \
	fi

run: install system-packages
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-test browser system-packages
	$(BIN)/pytest

# Interface languages: extract marked strings, merge them into the catalogues, compile
# (docs/translations.md). The compiled .mo files are committed.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --add-comments=NOTE: --sort-by-file \
	  -o consultations/translations/messages.pot .
	$(BIN)/pybabel update -i consultations/translations/messages.pot -d consultations/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d consultations/translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache node_modules
