# Every habit of the project is a target here; `make help` lists them.
# `make run` and `make test` work from a fresh clone: they create the virtualenv themselves.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CUSTODIAN_TEMPLATE := infrastructure/custodian/template.yaml
LAYER := layers/helpline
# The layer's dependencies, pinned with hashes (resolved by `make lock` for Python >= 3.11 on every platform,
# one version per package), and the dev venv's: the same pins plus the dev tools. The venv installs the
# second, the layer the first; tests/unit/test_lock.py fails when they disagree.
LOCK := $(LAYER)/requirements.lock
DEV_LOCK := $(LAYER)/requirements-dev.lock
SCRUBBER_DATA := $(LAYER)/helpline/scrubber_data
# The repository, also when `sam build` runs a build-% target from its scratch copy of a ContentUri.
ROOT := $(patsubst %/,%,$(dir $(abspath $(firstword $(MAKEFILE_LIST)))))
# Lambda's python3.13 on arm64 (Amazon Linux 2023, glibc 2.34): wheels only, for any manylinux up to 2.34,
# so the layer builds on any machine without Python 3.13 or Docker.
LAMBDA_WHEELS := --implementation cp --python-version 3.13 --only-binary=:all: \
	--platform manylinux2014_aarch64 $(foreach v,17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34,--platform manylinux_2_$(v)_aarch64)
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --fork-strategy fewest --python-version 3.11 --generate-hashes
# Lambda's runtime for `make test-3.13`: python3.13 on PATH, else pyenv's (checked to run, not just a shim).
PY313 = $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
VENV313 := .venv-3.13
STAMP313 := $(VENV313)/.installed
# The console (console/, Vite): `npm ci` when its lock is newer than what node_modules holds, `npm run build`
# when a source, the lock or openapi.json (its typed client) is newer than the build.
CONSOLE_INSTALLED := console/node_modules/.package-lock.json
CONSOLE_BUILT := console/dist/index.html
CONSOLE_SOURCES = $(shell find console/src console/public -type f 2>/dev/null) \
	$(wildcard console/index.html console/package.json console/tsconfig*.json console/vite.config.*) \
	console/package-lock.json openapi.json
# Vite needs Node 20.19+ or 22.12+ (not 21); checked only when npm has something to do.
NODE_CHECK := command -v node >/dev/null 2>&1 || { echo "the console needs Node.js 20.19+ or 22.12+ (Vite): no node on PATH" >&2; exit 1; }; \
	node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a >= 23 ? 0 : 1)' \
	|| { echo "the console needs Node.js 20.19+ or 22.12+ (Vite), found $$(node --version)" >&2; exit 1; }
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the locked versions, by hash, then the project itself (its dependencies are those)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# deduce's lookup structures (over a minute to build): built here, shipped in the layer, read-only at run time
	$(BIN)/python -m helpline.scrub --build --if-missing
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create the virtualenv and install the project with its dev tools (and the scrubber data)
	@$(BIN)/python -m helpline.scrub --build --if-missing

.PHONY: lock
lock: $(STAMP) ## Re-resolve both lock files after changing pyproject.toml or layers/helpline/requirements.txt
	$(UV_COMPILE) pyproject.toml --extra dev -o $(DEV_LOCK)
	$(UV_COMPILE) $(LAYER)/requirements.txt -c $(DEV_LOCK) -o $(LOCK)

.PHONY: run
run: $(STAMP) console ## Start both stacks locally in the foreground (API on :3000, the custodian's on :3001)
	$(BIN)/python -m local_stack

.PHONY: console
console: $(if $(wildcard console/package.json),$(CONSOLE_BUILT),console-absent) ## Build the console into console/dist when its sources changed (Node 20.19+ or 22.12+)

$(CONSOLE_INSTALLED): console/package-lock.json
	@$(NODE_CHECK)
	cd console && npm ci --no-audit --no-fund
	@test -f $@ || { mkdir -p $(@D) && touch $@; }

$(CONSOLE_BUILT): $(CONSOLE_INSTALLED) $(CONSOLE_SOURCES)
	@$(NODE_CHECK)
	cd console && npm run build
	@touch $@

.PHONY: console-absent
console-absent:
	@echo "console/package.json not found: no console to build (/console/ answers 503)"

.PHONY: browser
browser: ## Make sure a Chromium exists for the browser tests (Debian's chromium, installed with apt-get if missing)
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	command -v apt-get >/dev/null 2>&1 || { echo "make browser: no chromium or chromium-browser on PATH and no apt-get to install it: install Chromium" >&2; exit 1; }; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=sudo; \
	else echo "make browser: chromium is missing and installing it needs root: sudo apt-get install -y --no-install-recommends chromium" >&2; exit 1; fi; \
	echo "make browser: installing Debian's chromium for Playwright (which cannot download its own browsers here)"; \
	install="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium"; \
	$$install || { $$sudo apt-get update -q && $$install; } \
		|| { echo "make browser: apt-get could not install chromium" >&2; exit 1; }; \
	command -v chromium >/dev/null 2>&1 || { echo "make browser: chromium was installed but is not on PATH" >&2; exit 1; }

.PHONY: lint
lint: $(STAMP) ## ruff, format check, mypy, cfn-lint, sam validate --lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml $(CUSTODIAN_TEMPLATE)
	$(BIN)/sam validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)
	$(BIN)/sam validate --lint --template $(CUSTODIAN_TEMPLATE) --region $(AWS_DEFAULT_REGION)
	BC_SKIP_MAPPING=TRUE $(BIN)/uv tool run --quiet --from checkov==3.3.30 checkov --config-file .checkov.yaml -f template.yaml -f $(CUSTODIAN_TEMPLATE) --framework cloudformation --compact --quiet

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
e2e: $(STAMP) console browser ## HTTP (and the console in Chromium) against a local stack started on free ports
	$(BIN)/pytest tests/e2e

.PHONY: smoke
smoke: $(STAMP) ## The happy path against a running stack (SMOKE_OUTPUTS, default .local/outputs.json of make run)
	$(BIN)/python infrastructure/smoke.py --outputs $${SMOKE_OUTPUTS:-.local/outputs.json}

.PHONY: fuzz
fuzz: $(STAMP) ## Fuzz the API against openapi.json longer than `make test` does (FUZZ_EXAMPLES=200)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/pytest tests/e2e/test_fuzz_api.py

.PHONY: test
test: lint openapi-check console browser ## Every check: lint, the console's build, then unit, integration and e2e tests, then unit+integration on 3.13
	$(BIN)/pytest tests
	$(MAKE) --no-print-directory test-3.13

$(STAMP313): pyproject.toml $(DEV_LOCK)
	rm -rf $(VENV313)
	$(PY313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install --quiet --upgrade pip
	$(VENV313)/bin/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(VENV313)/bin/python -m pip install --quiet --no-deps -e .
	touch $(STAMP313)

.PHONY: test-3.13
test-3.13: $(STAMP) ## Unit and integration tests on Python 3.13, Lambda's runtime (skipped if none is found)
	@py='$(PY313)'; if [ -z "$$py" ]; then \
	  echo "test-3.13 skipped: no Python 3.13 found (python3.13 on PATH, or pyenv's versions/3.13*)"; \
	else \
	  echo "test-3.13 with $$py" && $(MAKE) --no-print-directory $(STAMP313) && \
	  $(BIN)/python -m helpline.scrub --build --if-missing && \
	  $(VENV313)/bin/pytest tests/unit tests/integration; \
	fi

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
build: $(STAMP) ## sam build (layers and every function; no Python 3.13 or Docker), then sizes and checks
	$(BIN)/sam build --template template.yaml
	$(BIN)/python infrastructure/build_report.py .aws-sam/build

# Called by `sam build` (Metadata BuildMethod: makefile, ContextPath: .) with ARTIFACTS_DIR, the layer's root.
.PHONY: build-DomainLayer
build-DomainLayer:
	$(ROOT)/$(BIN)/python -m pip install --quiet --no-compile --no-deps --require-hashes $(LAMBDA_WHEELS) \
		-r $(ROOT)/$(LOCK) --target $(ARTIFACTS_DIR)/python
	tar -C $(ROOT)/$(LAYER) --exclude=scrubber_data --exclude=__pycache__ -cf - helpline \
		| tar -C $(ARTIFACTS_DIR)/python -xf -

# The custodian's stack ships the same layer (infrastructure/custodian/template.yaml, ContextPath: ../..).
.PHONY: build-CustodianDomainLayer
build-CustodianDomainLayer: build-DomainLayer

.PHONY: build-ScrubberDataLayer
build-ScrubberDataLayer:
	@cd $(ROOT) && $(BIN)/python -c 'import sys; from pathlib import Path; from helpline.scrub import is_built; \
		sys.exit(not is_built(Path(sys.argv[1])))' $(SCRUBBER_DATA) \
		|| { echo "scrubber data missing (or not of the locked deduce) in $(SCRUBBER_DATA): run make install" >&2; exit 1; }
	mkdir -p $(ARTIFACTS_DIR)/python/helpline
	cp -R $(ROOT)/$(SCRUBBER_DATA) $(ARTIFACTS_DIR)/python/helpline/scrubber_data

.PHONY: deploy
deploy: build ## sam deploy to the environment in ENV (default dev), see samconfig.toml
	$(BIN)/sam deploy --config-env $${ENV:-dev}

.PHONY: deploy-console
deploy-console: $(STAMP) console ## Upload the console to ENV's stack (default dev): config.json from its outputs, S3, CloudFront
	$(BIN)/python infrastructure/deploy_console.py --env $${ENV:-dev}

.PHONY: build-custodian
build-custodian: $(STAMP) ## sam build of the custodian's stack (deployed by the provider, in its own account)
	$(BIN)/sam build --template $(CUSTODIAN_TEMPLATE) --build-dir .aws-sam/custodian
	$(BIN)/python infrastructure/build_report.py .aws-sam/custodian

.PHONY: deploy-custodian
deploy-custodian: build-custodian ## sam deploy of the custodian's stack to ENV (default custodian-dev)
	$(BIN)/sam deploy --template-file .aws-sam/custodian/template.yaml --config-file samconfig.toml --config-env $${ENV:-custodian-dev}

.PHONY: deploy-custodian-console
deploy-custodian-console: $(STAMP) console ## Upload the console to the custodian's ENV stack (default custodian-dev): audience custodian
	$(BIN)/python infrastructure/deploy_console.py --env $${ENV:-custodian-dev} --audience custodian

.PHONY: clean
clean: ## Remove the virtualenv, build output and local state
	rm -rf $(VENV) $(VENV313) .aws-sam .local .pytest_cache .mypy_cache .ruff_cache console/node_modules console/dist
