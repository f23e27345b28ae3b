# Campaign Pulse: `make run` starts everything on the embedded default, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SIMULATE ?= 1
# Debian packages the tests drive for real: promtool/Prometheus/Alertmanager, headless Chromium and
# pdftoppm (poppler-utils), which turns the weekly review's PDF pages into images.
SYSTEM_PACKAGES := prometheus prometheus-alertmanager chromium poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install system-packages run test lint bench eval clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

system-packages:
	@command -v promtool >/dev/null && command -v prometheus-alertmanager >/dev/null \
		&& command -v chromium >/dev/null && command -v pdftoppm >/dev/null \
		|| { $(SUDO) apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES); }

run: install
	$(BIN)/pulse run --simulate $(SIMULATE)

lint: install
	$(BIN)/ruff check services tests
	$(BIN)/ruff format --check services tests
	$(BIN)/mypy

test: lint system-packages
	$(BIN)/pytest -n 2 --dist loadfile

bench: install
	$(BIN)/pulse bench --curve

eval: install
	$(BIN)/pulse eval

clean:
	rm -rf $(VENV) .bench .run .eval .artifacts
