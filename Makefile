# The two set-up commands of the README: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
SIM_PORT ?= 8800
PROFILE ?= small

.PHONY: run sim test lint

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# the console on 127.0.0.1:$(PORT) against the bundled simulator, with two sites connected
run: $(BIN)/.installed
	$(BIN)/appgov demo --port $(PORT) --sim-port $(SIM_PORT) --profile $(PROFILE)

# the simulator alone (its URLs, accounts and secrets go to var/sim-state.json)
sim: $(BIN)/.installed
	$(BIN)/appgov-sim serve --host 127.0.0.1 --port $(SIM_PORT) --profile $(PROFILE) --seed 1 --state-file var/sim-state.json

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/pytest -n 2 --dist loadfile
