# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded engine's bindings, rebuilt from their source against OPA_VERSION when Go is here
# (scripts/opa_bindings.sh says why); the wheel from the index otherwise.
OPA_BINDINGS_VERSION := 0.4.4
OPA_BINDINGS := opa-golib-python-bindings==$(OPA_BINDINGS_VERSION)
# The real `opa` binary (server, fmt, check, test, bench), built from the Go module proxy.
OPA_VERSION := 1.22.3
GO ?= go
TOOLS := .tools
OPA := $(TOOLS)/bin/opa
OPA_STAMP := $(TOOLS)/opa-$(OPA_VERSION).stamp
OPA_PORT ?= 8181
# actionlint, GitHub's workflow checker, for examples/github (built like opa: once per version).
ACTIONLINT_VERSION := 1.7.12
ACTIONLINT := $(TOOLS)/bin/actionlint
ACTIONLINT_STAMP := $(TOOLS)/actionlint-$(ACTIONLINT_VERSION).stamp
# The Argo Rollouts CRDs the examples/argo manifests are validated against (tests/examples).
ARGO_ROLLOUTS := github.com/argoproj/argo-rollouts@v1.10.1
ARGO_CRDS := manifests/crds/analysis-template-crd.yaml manifests/crds/rollout-crd.yaml
ARGO_CRDS_STAMP := $(TOOLS)/crds/$(ARGO_ROLLOUTS).stamp

# The official SARIF 2.1.0 schema the tests validate `--format sarif` against (never committed).
SARIF_SCHEMA := $(TOOLS)/sarif-schema-2.1.0.json

.PHONY: install opa opa-if-go actionlint crds examples sarif-schema services test check pytest rego-test lint \
	types architecture run run-opa demo bench clean

install: $(VENV)/.installed opa-if-go

# Built once per version (the stamp); an `opa` on PATH of the same version is linked instead.
opa: $(OPA_STAMP)

$(OPA_STAMP):
	@mkdir -p $(TOOLS)/bin
	@found=$$(command -v opa || true); \
	if [ -n "$$found" ] && [ "$$found" != "$(abspath $(OPA))" ] \
		&& "$$found" version 2>/dev/null | grep -qx "Version: $(OPA_VERSION)"; then \
		ln -sf "$$found" $(OPA); echo "OPA $(OPA_VERSION): using $$found"; \
	else \
		echo "OPA $(OPA_VERSION): building github.com/open-policy-agent/opa@v$(OPA_VERSION)" \
			"with $$($(GO) version) into $(TOOLS)/bin (a few minutes the first time)"; \
		GOBIN=$(abspath $(TOOLS)/bin) $(GO) install github.com/open-policy-agent/opa@v$(OPA_VERSION); \
	fi
	@$(OPA) version | grep -qx "Version: $(OPA_VERSION)"
	@rm -f $(TOOLS)/opa-*.stamp && touch $@

opa-if-go:
	@if command -v $(GO) >/dev/null 2>&1 || command -v opa >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory opa; \
	else \
		echo "No Go toolchain ($(GO)) and no opa on PATH: OPA $(OPA_VERSION) is not built." \
			"The embedded engine works; the OPA server tests, opa fmt/check and make run-opa" \
			"need it (install Go, then make opa)."; \
	fi

actionlint: $(ACTIONLINT_STAMP)

$(ACTIONLINT_STAMP):
	@mkdir -p $(TOOLS)/bin
	@echo "actionlint $(ACTIONLINT_VERSION): building" \
		"github.com/rhysd/actionlint/cmd/actionlint@v$(ACTIONLINT_VERSION) with $$($(GO) version)"
	GOBIN=$(abspath $(TOOLS)/bin) $(GO) install \
		github.com/rhysd/actionlint/cmd/actionlint@v$(ACTIONLINT_VERSION)
	@$(ACTIONLINT) -version | head -n 1 | grep -qx "v$(ACTIONLINT_VERSION)"
	@rm -f $(TOOLS)/actionlint-*.stamp && touch $@

# The CRDs from the Go module's zip (checked against the checksum database by `go mod download`).
crds: $(ARGO_CRDS_STAMP)

$(ARGO_CRDS_STAMP):
	bash scripts/crds.sh $(ARGO_ROLLOUTS) $(ARGO_CRDS)
	@touch $@

# The examples under examples/: actionlint (with ShellCheck on every run: script) over the
# GitHub workflow, and the CRDs the tests validate the Argo Rollouts manifests against.
# Without Go both are skipped, saying so; CI has Go, and there a missing tool fails.
examples: install
	@if command -v $(GO) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory actionlint crds && \
		$(ACTIONLINT) -shellcheck $(BIN)/shellcheck examples/github/*.yml; \
	elif [ "$$CI" = true ]; then \
		echo "No Go toolchain ($(GO)): CI must build actionlint and fetch the CRDs"; exit 1; \
	else \
		echo "No Go toolchain ($(GO)): actionlint and the Argo Rollouts CRD checks are" \
			"skipped (install Go, then make examples)"; \
	fi

# From the Go module proxy, as OPA is (scripts/sarif_schema.py says from which module).
sarif-schema: $(SARIF_SCHEMA)

$(SARIF_SCHEMA): scripts/sarif_schema.py
	GO=$(GO) $(PYTHON) scripts/sarif_schema.py $@

$(VENV)/.installed: pyproject.toml scripts/opa_bindings.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,dev]'
	@if command -v $(GO) >/dev/null 2>&1; then \
		GO=$(GO) bash scripts/opa_bindings.sh $(OPA_BINDINGS_VERSION) $(OPA_VERSION) $(BIN)/pip; \
	elif [ "$$CI" = true ]; then \
		echo "No Go toolchain ($(GO)): CI must build the embedded engine against OPA $(OPA_VERSION)"; \
		exit 1; \
	else \
		echo "No Go toolchain ($(GO)): the embedded engine is the index's wheel, built against an" \
			"older OPA that evaluates more slowly (install Go, then rm $@ && make install)"; \
		$(BIN)/pip install --quiet --ignore-requires-python $(OPA_BINDINGS); \
	fi
	touch $@

# PostgreSQL on 127.0.0.1:5432 with a `test` database, for the PostgreSQL-backed tests, and
# Debian's headless chromium with chromedriver, for the review page's browser tests.
services:
	bash scripts/postgres.sh
	bash scripts/browser.sh

test: install check rego-test lint types architecture examples pytest

# On every core, each test file on one worker (its module-scoped servers started once).
pytest: install sarif-schema
	$(BIN)/pytest -q -n auto --dist loadfile

# Static checks of the policy set: compile, thresholds schemas, METADATA, unique codes,
# entrypoints, no default allow, and OPA's own `opa check --strict` (input paths typed by the
# gate input schemas) and `opa fmt --fail` with the pinned opa.
# Regal is not served by the Go module proxy here (README).
check: install
	@if [ -x $(OPA) ]; then \
		$(BIN)/mlgate check policies --opa $(OPA); \
	elif [ "$$CI" = true ]; then \
		echo "$(OPA) is missing; CI must run opa fmt and opa check (make opa)"; exit 1; \
	else \
		echo "$(OPA) is missing (no Go): opa fmt and opa check skipped"; \
		$(BIN)/mlgate check policies --no-opa; \
	fi

# Every policy file must be fully covered: a rule or a file no test reaches fails.
rego-test: install
	$(BIN)/mlgate test policies --file-threshold 100

lint: install
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench
	$(BIN)/hadolint Dockerfile

types: install
	$(BIN)/mypy

# DESIGN.md's architecture rules: the layers, the forbidden imports, no import cycles.
architecture: install
	$(BIN)/lint-imports

run: install
	$(BIN)/mlgate serve

# The real OPA server on loopback with the policy bundle, and mlgate serve deciding through it;
# when either stops (Ctrl-C, a crash), the other is stopped too.
run-opa: install opa
	$(BIN)/mlgate bundle build --output .mlgate/bundle.tar.gz
	@bash -c ' \
	$(OPA) run --server --addr 127.0.0.1:$(OPA_PORT) --log-level error \
		--bundle .mlgate/bundle.tar.gz & opa=$$!; \
	trap "kill $$opa $$serve 2>/dev/null; wait" EXIT INT TERM; \
	for i in $$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$(OPA_PORT)) 2>/dev/null && break; \
		sleep 0.2; done; \
	MLGATE_OPA_URL=http://127.0.0.1:$(OPA_PORT) $(BIN)/mlgate serve & serve=$$!; \
	wait -n $$opa $$serve'

demo: install
	$(BIN)/mlgate demo

bench: install
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/monitoring.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(TOOLS)
