# The two commands: `make run` and `make test`. Both work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM := /usr/bin/chromium
# dcmtk: the imaging tests make lossy 12-bit JPEG files with dcmcjpeg and check our decoding against dcmdjpeg.
DCMTK := /usr/bin/dcmcjpeg
# Tesseract's English model: the OCR that looks for burned-in text on radiographs (tesserocr bundles the engine).
TESSDATA := /usr/share/tesseract-ocr/5/tessdata/eng.traineddata
# The whole suite on one worker per core (pytest-xdist), four at most: each worker migrates its test database
# and loads the demo once (docs/decisions.md, "CI in minutes"). PYTEST_PARALLEL= runs it in one process.
PYTEST_PARALLEL ?= --numprocesses=auto --maxprocesses=4

.PHONY: run test lint serve-check bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHROMIUM):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is missing: install Debian's chromium package (apt-get install chromium) as root."; exit 1; \
	fi

$(DCMTK):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dcmtk >/dev/null; \
	else \
		echo "dcmtk is missing: install Debian's dcmtk package (apt-get install dcmtk) as root."; exit 1; \
	fi

$(TESSDATA):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr-eng >/dev/null; \
	else \
		echo "tesseract-ocr-eng is missing: radiographs are held for review unchecked until it is installed (as root)."; \
	fi

run: $(VENV)/.runtime $(TESSDATA)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --accounts
	$(PY) manage.py load_demo_quizzes
	@echo ""
	@echo "Teaching file on http://$(HOST):$(PORT)/  (authoring screen: http://$(HOST):$(PORT)/admin/)"
	@echo "Stop with Ctrl-C."
	@trap 'kill 0' INT TERM EXIT; \
		$(PY) manage.py db_worker & \
		$(PY) manage.py runserver --noreload $(HOST):$(PORT)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run --settings=teachingfile.settings.test

test: $(VENV)/.dev $(CHROMIUM) $(DCMTK) $(TESSDATA) lint
	$(VENV)/bin/pytest $(PYTEST_PARALLEL) --durations=10

bench: $(VENV)/.dev
	$(PY) bench/pages.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
