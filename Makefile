# The two commands: `make run` and `make test`. Both work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DICOM_PORT ?= 11112
CHROMIUM := /usr/bin/chromium
# dcmtk: the imaging tests make lossy 12-bit JPEG files with dcmcjpeg and check our decoding against dcmdjpeg.
DCMTK := /usr/bin/dcmcjpeg
# nginx: tests/test_deploy.py checks the site in deploy/nginx/ with `nginx -t`; bench/serve.py holds an image
# against it as a static file server. wrk: bench/serve.py's load generator.
WRK := /usr/bin/wrk
NGINX := /usr/sbin/nginx
# Node.js: ESLint and the unit tests of the pages' JavaScript (static/js) under Node's test runner.
NODE := /usr/bin/node
# Tesseract's English model: the OCR that looks for burned-in text on radiographs (tesserocr bundles the engine).
TESSDATA := /usr/share/tesseract-ocr/5/tessdata/eng.traineddata
# The tesseract program: the OCR benchmark's peer (the same engine run as a process), for `make bench` only.
TESSERACT := /usr/bin/tesseract
# Orthanc: the DICOM server the ingest benchmark compares against (store + /rendered), for `make bench` only; the
# benchmark runs its own Orthanc on loopback with a temporary configuration, never the packaged service.
ORTHANC := /usr/sbin/Orthanc
# The whole suite on one worker per core (pytest-xdist), four at most: each worker migrates its test database
# and loads the demo once (docs/decisions.md, "CI in minutes"). PYTEST_PARALLEL= runs it in one process.
PYTEST_PARALLEL ?= --numprocesses=auto --maxprocesses=4

.PHONY: run test test-setup lint serve-check bench bench-serve clean

# uv installs the pinned requirements in seconds where pip takes most of a minute (docs/decisions.md,
# "Installs by uv"); pip installs only uv itself. Compiled at install: where PYTHONDONTWRITEBYTECODE is set (as
# on our machines) no process writes bytecode, and every one would compile Django again.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv

$(UV):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.runtime: requirements.txt | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements.txt -r requirements-dev.txt
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

$(NGINX):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	else \
		echo "nginx is missing: install Debian's nginx package (apt-get install nginx) as root."; exit 1; \
	fi

$(WRK):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else \
		echo "wrk is missing: install Debian's wrk package (apt-get install wrk) as root."; exit 1; \
	fi

$(NODE):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	else \
		echo "Node.js is missing: install Debian's nodejs and npm packages (apt-get install nodejs npm) as root."; exit 1; \
	fi

# ESLint, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json | $(NODE)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(TESSDATA):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr-eng >/dev/null; \
	else \
		echo "tesseract-ocr-eng is missing: radiographs are held for review unchecked until it is installed (as root)."; \
	fi

$(TESSERACT):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; \
	else \
		echo "tesseract is missing: install Debian's tesseract-ocr package (apt-get install tesseract-ocr) as root."; exit 1; \
	fi

$(ORTHANC):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq orthanc >/dev/null; \
	else \
		echo "Orthanc is missing: install Debian's orthanc package (apt-get install orthanc) as root."; exit 1; \
	fi

run: $(VENV)/.runtime $(TESSDATA)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_files
	TEACHINGFILE_RECEIVER_PORT=$(DICOM_PORT) $(PY) manage.py load_demo --accounts
	$(PY) manage.py load_demo_quizzes
	@echo ""
	@echo "Teaching file on http://$(HOST):$(PORT)/  (authoring screen: http://$(HOST):$(PORT)/admin/)"
	@echo "DICOM receiver on $(HOST):$(DICOM_PORT), called AE title TF_FACULTY (docs/receiver.md)"
	@echo "Stop with Ctrl-C."
	@trap 'kill 0' INT TERM EXIT; \
		$(PY) manage.py db_worker & \
		$(PY) manage.py receive_dicom --host $(HOST) --port $(DICOM_PORT) & \
		$(PY) manage.py runserver --noreload $(HOST):$(PORT)

lint: $(VENV)/.dev node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	node_modules/.bin/eslint
	$(PY) manage.py makemigrations --check --dry-run --settings=teachingfile.settings.test

# What the tests need installed, and the demo's generated files (once, on every core; .ci/run runs this first).
test-setup: $(VENV)/.dev $(CHROMIUM) $(DCMTK) $(TESSDATA) $(NGINX) node_modules/.installed
	$(PY) manage.py demo_files --settings=teachingfile.settings.test

# The project compiled first: with PYTHONDONTWRITEBYTECODE set, each of the hundreds of processes the tests start
# (xdist workers, the site's own processes) would compile it again.
test: test-setup lint
	node --test tests/js/
	$(PY) -m compileall -q -j 0 -x '/(\.venv|node_modules|\.git)/' . > /dev/null
	$(VENV)/bin/pytest $(PYTEST_PARALLEL) --durations=10

# The benchmarks that need no server or browser of ours, a few minutes in all (docs/benchmarks.md has the others;
# the ingest benchmark starts its own Orthanc).
bench: $(VENV)/.dev $(DCMTK) $(TESSDATA) $(TESSERACT) $(ORTHANC)
	$(PY) bench/pages.py
	$(PY) bench/jpeg12.py
	$(PY) bench/burned_in_text.py
	$(PY) bench/upload.py
	$(PY) bench/ingest.py --slices 100 --rounds 3 --memory-slices 0

# The pages under gunicorn against a plain Django page and nginx (PostgreSQL and Redis on this machine; ~7 minutes).
bench-serve: $(VENV)/.dev $(WRK) $(NGINX)
	$(PY) bench/serve.py

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles .pytest_cache .ruff_cache .cache
