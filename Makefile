# Every habit of the project is a target here; `make help` lists them.
# `make run` and `make test` work from a fresh clone: they create the virtualenv themselves.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CUSTODIAN_TEMPLATE := infrastructure/custodian/template.yaml
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml layers/helpline/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# deduce's lookup structures (over a minute to build): built here, shipped in the layer, read-only at run time
	$(BIN)/python -m helpline.scrub --build --if-missing
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create the virtualenv and install the project with its dev tools

.PHONY: run
run: $(STAMP) ## Start both stacks locally in the foreground (API on :3000, the custodian's on :3001)
	$(BIN)/python -m local_stack

.PHONY: lint
lint: $(STAMP) ## ruff, format check, mypy, cfn-lint, sam validate --lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml $(CUSTODIAN_TEMPLATE)
	$(BIN)/sam validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)
	$(BIN)/sam validate --lint --template $(CUSTODIAN_TEMPLATE) --region $(AWS_DEFAULT_REGION)

.PHONY: format
format: $(STAMP) ## Rewrite the code in the project's format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: unit
unit: $(STAMP) ## Pure domain tests (no AWS)
	$(BIN)/pytest tests/unit

.PHONY: integration
integration: $(STAMP) ## Handlers and the local stack against moto, in-process
	$(BIN)/pytest tests/integration

.PHONY: e2e
e2e: $(STAMP) ## HTTP against a local stack started on free ports
	$(BIN)/pytest tests/e2e

.PHONY: fuzz
fuzz: $(STAMP) ## Fuzz the API against openapi.json longer than `make test` does (FUZZ_EXAMPLES=200)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/pytest tests/e2e/test_fuzz_api.py

.PHONY: test
test: lint openapi-check ## Every check: lint, then unit, integration and e2e tests
	$(BIN)/pytest tests

.PHONY: bench
bench: $(STAMP) ## Run the benchmarks under bench/ and print their figures (the fakes come from tests/)
	@for b in bench/*.py; do echo "== $$b"; PYTHONPATH=tests $(BIN)/python $$b || exit 1; done

.PHONY: openapi
openapi: $(STAMP) ## Write openapi.json from the API routes
	$(BIN)/python -m helpline.openapi > openapi.json

.PHONY: openapi-check
openapi-check: $(STAMP)
	@$(BIN)/python -m helpline.openapi | diff -q - openapi.json >/dev/null || { echo "openapi.json is stale: run make openapi"; exit 1; }

.PHONY: build
build: $(STAMP) ## sam build (the layer and every function)
	$(BIN)/sam build --template template.yaml

.PHONY: deploy
deploy: build ## sam deploy to the environment in ENV (default dev), see samconfig.toml
	$(BIN)/sam deploy --config-env $${ENV:-dev}

.PHONY: build-custodian
build-custodian: $(STAMP) ## sam build of the custodian's stack (deployed by the provider, in its own account)
	$(BIN)/sam build --template $(CUSTODIAN_TEMPLATE) --build-dir .aws-sam/custodian

.PHONY: deploy-custodian
deploy-custodian: build-custodian ## sam deploy of the custodian's stack to ENV (default custodian-dev)
	$(BIN)/sam deploy --template-file .aws-sam/custodian/template.yaml --config-file samconfig.toml --config-env $${ENV:-custodian-dev}

.PHONY: clean
clean: ## Remove the virtualenv, build output and local state
	rm -rf $(VENV) .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
