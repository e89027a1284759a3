# Mesa: the two commands of the README.
#   make run   installs, migrates, loads the demo data and serves http://127.0.0.1:5000
#              (make run PORT=8080 HOST=0.0.0.0); never installs system packages
#   make test  installs and runs the whole test suite (SQLite; PostgreSQL with MESA_TEST_DATABASE_URL)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test browser system-packages check-system clean translations

# Fast first start (a fresh clone's pip install took 29 s of CPU, now 12 s): a current pip
# installs faster than the one venv bundles, even counting its own upgrade; --no-compile
# skips byte-compiling every installed module up front (Python compiles the ones it
# imports, once); pip's cache stays on.
PIP_INSTALL := $(BIN)/pip install --quiet --no-compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml setup.py
	$(PIP_INSTALL) -e ".[test]"
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
	    ($(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null); \
	  else \
	    echo "Chromium not found at /usr/bin/chromium: browser tests will be skipped (install the 'chromium' package)."; \
	  fi; \
	fi

# Summaries: WeasyPrint (PDF) needs Pango >= 1.44 and HarfBuzz's subsetter; DejaVu covers
# Latin and Arabic, Noto Color Emoji the emoji; pdftotext (poppler) reads PDFs back in tests.
# LibreOffice's Writer without GUI (about 220 MB installed) lays Word files out to give
# their contents page numbers, with Carlito (Calibri's metrics) as Word's Calibri.
# For the tests only (make test): installed with apt-get when missing and we may (root),
# waiting for a dpkg lock another process holds; otherwise say what is needed.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-color-emoji poppler-utils \
  libreoffice-writer-nogui fonts-crosextra-carlito
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing for PDF summaries..."; \
	    ($(APT_GET) update -qq && $(APT_GET) install -y -qq $$missing >/dev/null); \
	  else \
	    echo "Missing system packages for PDF summaries:$$missing (install them with apt-get)."; \
	  fi; \
	fi

# make run installs nothing outside .venv: it says which system libraries or fonts are
# missing and what will not work without them (PDF downloads), then starts anyway.
check-system: install
	@$(BIN)/python -m consultations.system

# The job worker (Word, PDF and spreadsheet files, e-mail, the schedules) runs beside the
# development server, on the SQLite queue in instance/, and stops with it (Ctrl-C).
run: install check-system
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

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
