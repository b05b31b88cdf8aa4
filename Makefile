# mqctl developer entry points. Everything a fresh machine needs is installed from here.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# uv is installed into the machine's Python by `make install` when missing (pinned).
UV_VERSION := 0.13.8
UV ?= python3 -m uv
PY := .venv/bin/python
MQCTL := .venv/bin/mqctl

.PHONY: help install system-deps brokers brokers-down brokers-status brokers-cluster brokers-cluster-down seed demo lint typecheck test test-only bench tui help-cache

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

system-deps: ## Debian packages: RabbitMQ, kcat, Redis, Java, Maven (idempotent)
	@bash scripts/system-deps.sh

install: system-deps ## create .venv with the plugins, every package at its pinned version (pyproject.toml)
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --all-packages

brokers: system-deps ## start local Kafka (KRaft), RabbitMQ and Redis on loopback (idempotent)
	@bash scripts/brokers.sh up
	@bash scripts/redis.sh up
	@bash scripts/secure-brokers.sh up

brokers-down: ## stop the brokers this project started (by pid file)
	@[ ! -x $(PY) ] || $(PY) scripts/scenario_consumers.py down
	@# the secure RabbitMQ node shares the epmd that brokers.sh started: stop it first, so
	@# that brokers.sh can stop its epmd too
	@bash scripts/secure-brokers.sh down
	@bash scripts/cluster.sh down
	@bash scripts/prometheus.sh down
	@bash scripts/acl-broker.sh down
	@bash scripts/brokers.sh down
	@bash scripts/redis.sh down

brokers-status: ## show whether the local brokers are up
	@bash scripts/brokers.sh status
	@bash scripts/redis.sh status
	@bash scripts/secure-brokers.sh status
	@bash scripts/cluster.sh status

brokers-cluster: system-deps ## start a 3-broker KRaft Kafka cluster on loopback (29092-29094)
	@bash scripts/cluster.sh up

brokers-cluster-down: ## stop the 3-broker cluster
	@bash scripts/cluster.sh down

seed: install brokers ## create the order-system scenario (idempotent) with its live consumers
	@$(PY) scripts/scenario_consumers.py down
	$(PY) scripts/seed.py
	@$(PY) scripts/scenario_consumers.py up

demo: seed ## install, start brokers, seed, show what mqctl sees
	@bash scripts/demo.sh

lint: install ## ruff check + ruff format --check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install ## mypy (strict on mqctl/)
	.venv/bin/mypy

test: seed lint typecheck test-only ## everything CI runs

test-only: ## run pytest only (brokers must be up and seeded); exit 5 (no tests) counts as failure
	@bash scripts/pytest.sh

bench: seed ## benchmarks side by side with peer tools -> docs/benchmarks.md
	$(PY) scripts/bench.py

help-cache: ## regenerate mqctl/root_help.txt (the fast path of `mqctl --help`)
	$(PY) -c "from mqctl.__main__ import render_root_help as r; open('mqctl/root_help.txt', 'w').write(r())"

tui: seed ## open the TUI on the local context
	$(MQCTL) tui
